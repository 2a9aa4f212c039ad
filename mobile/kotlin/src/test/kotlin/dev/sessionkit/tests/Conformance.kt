// The conformance scenario runner for the Kotlin face (format: tests/conformance/README.md).
// Every scenario runs on a fresh store through the generated Kotlin API, as an app would call
// it; results become JSON with SPEC field names and are matched like the Rust runner does.
package dev.sessionkit.tests

import dev.sessionkit.Config
import dev.sessionkit.Created
import dev.sessionkit.Event
import dev.sessionkit.EventListener
import dev.sessionkit.ListOptions
import dev.sessionkit.ManualClock
import dev.sessionkit.NewSession
import dev.sessionkit.Page
import dev.sessionkit.Session
import dev.sessionkit.SessionManager
import dev.sessionkit.SessionkitException
import dev.sessionkit.State
import dev.sessionkit.Stats
import dev.sessionkit.parseClientKind
import dev.sessionkit.parseContextPolicy
import dev.sessionkit.parseSessionLimitPolicy
import java.io.File
import java.math.BigInteger

/** The scenario itself is malformed (unknown op, bad reference, missing argument). */
class ScenarioError(message: String) : Exception(message)

/** A step did not produce what the scenario expects. */
class StepFailure(message: String) : Exception(message)

object Conformance {
    const val DEFAULT_CLOCK_START_MS = 1_700_000_000_000L

    /** The repository root: the first directory up from here holding tests/conformance. */
    fun repoRoot(): File {
        var dir: File? = File(System.getProperty("sessionkit.root") ?: ".").absoluteFile
        while (dir != null) {
            if (File(dir, "tests/conformance").isDirectory) return dir
            dir = dir.parentFile
        }
        throw IllegalStateException("no tests/conformance above the working directory")
    }

    /** Every scenario file, sorted by name (never a fixed list). */
    fun scenarioFiles(): List<File> =
        (File(repoRoot(), "tests/conformance").listFiles { f -> f.name.endsWith(".json") } ?: emptyArray())
            .sortedBy { it.name }

    // ---- references and expressions -------------------------------------------------------

    class Refs {
        private val saved = HashMap<String, Any?>()

        fun save(name: String, value: Any?) {
            saved[name] = value
        }

        fun resolve(value: Any?): Any? = when (value) {
            is String -> when {
                value.startsWith("$$") -> value.substring(1)
                value.startsWith("$") -> lookup(value.substring(1))
                else -> value
            }
            is List<*> -> value.map { resolve(it) }
            is Map<*, *> -> when {
                value.size == 1 && value.containsKey("\$concat") -> {
                    val parts = resolve(value["\$concat"]) as? List<*> ?: throw ScenarioError("\$concat takes an array")
                    parts.joinToString("") { if (it is String) it else Json.write(it) }
                }
                value.size == 1 && value.containsKey("\$repeat") -> {
                    val args = resolve(value["\$repeat"]) as? List<*>
                    val text = args?.getOrNull(0) as? String
                    val count = args?.getOrNull(1) as? Long
                    if (args?.size != 2 || text == null || count == null || count < 0) {
                        throw ScenarioError("\$repeat takes [string, non-negative count]")
                    }
                    text.repeat(count.toInt())
                }
                else -> LinkedHashMap<String, Any?>().also { out ->
                    value.forEach { (k, v) -> out[k as String] = resolve(v) }
                }
            }
            else -> value
        }

        private fun lookup(path: String): Any? {
            val parts = path.split(".")
            if (!saved.containsKey(parts[0])) throw ScenarioError("no saved result named '${parts[0]}'")
            var current = saved[parts[0]]
            for (part in parts.drop(1)) {
                current = when {
                    current is Map<*, *> && current.containsKey(part) -> current[part]
                    current is List<*> && part.toIntOrNull()?.let { it in current.indices } == true -> current[part.toInt()]
                    else -> throw ScenarioError("\$$path: nothing at '$part'")
                }
            }
            return current
        }
    }

    // ---- matching -------------------------------------------------------------------------

    /** Subset matching with the `$type`, `$len` and `$ne` matchers. */
    fun matches(expected: Any?, actual: Any?): Boolean {
        if (expected is Map<*, *> && expected.size == 1) {
            when {
                expected.containsKey("\$type") -> return Json.typeName(actual) == expected["\$type"]
                expected.containsKey("\$len") -> {
                    val len = when (actual) {
                        is List<*> -> actual.size.toLong()
                        is String -> actual.codePointCount(0, actual.length).toLong()
                        else -> return false
                    }
                    return Json.equal(expected["\$len"], len)
                }
                expected.containsKey("\$ne") -> return !Json.equal(expected["\$ne"], actual)
            }
        }
        return when (expected) {
            is Map<*, *> -> actual is Map<*, *> && expected.all { (k, v) ->
                (actual.containsKey(k) && matches(v, actual[k])) || (v == null && !actual.containsKey(k))
            }
            is List<*> -> actual is List<*> && expected.size == actual.size &&
                expected.indices.all { matches(expected[it], actual[it]) }
            else -> Json.equal(expected, actual)
        }
    }

    // ---- results as JSON ------------------------------------------------------------------

    private fun num(v: ULong): Any = if (v <= Long.MAX_VALUE.toULong()) v.toLong() else BigInteger(v.toString())

    fun json(s: Session): Map<String, Any?> = linkedMapOf(
        "id" to s.id,
        "user_id" to s.userId,
        "created_at" to s.createdAt,
        "last_active_at" to s.lastActiveAt,
        "expires_at" to s.expiresAt,
        "absolute_expires_at" to s.absoluteExpiresAt,
        "client" to linkedMapOf("kind" to s.client.kind.name.lowercase(), "version" to s.client.version, "device" to s.client.device),
        "ip" to s.ip,
        "user_agent" to s.userAgent,
        "active" to s.active,
        "metadata" to Json.parse(s.metadata),
    )

    fun json(c: Created): Map<String, Any?> = linkedMapOf("session" to json(c.session), "token" to c.token)

    fun json(p: Page): Map<String, Any?> = linkedMapOf("items" to p.items.map { json(it) }, "next_cursor" to p.nextCursor)

    fun json(s: State): Map<String, Any?> = linkedMapOf(
        "version" to num(s.version),
        "data" to Json.parse(s.data),
        "checksum" to s.checksum,
        "size" to num(s.size),
        "compressed" to s.compressed,
        "stored_size" to num(s.storedSize),
        "updated_at" to s.updatedAt,
    )

    fun json(s: Stats): Map<String, Any?> = linkedMapOf(
        "total" to num(s.total),
        "active" to num(s.active),
        "created_last_24h" to num(s.createdLast24h),
        "created_last_7d" to num(s.createdLast7d),
        "by_client_kind" to s.byClientKind.mapValues { num(it.value) },
        "average_duration_ms" to s.averageDurationMs,
    )

    fun json(e: Event): Map<String, Any?> = when (e) {
        is Event.Created -> linkedMapOf("type" to "Created", "session_id" to e.sessionId, "user_id" to e.userId)
        is Event.Rotated -> linkedMapOf(
            "type" to "Rotated", "old_session_id" to e.oldSessionId, "session_id" to e.sessionId, "user_id" to e.userId,
        )
        is Event.MetadataUpdated -> linkedMapOf("type" to "MetadataUpdated", "session_id" to e.sessionId)
        is Event.Revoked -> linkedMapOf("type" to "Revoked", "session_id" to e.sessionId)
        is Event.Deleted -> linkedMapOf("type" to "Deleted", "session_id" to e.sessionId)
        is Event.Expired -> linkedMapOf("type" to "Expired", "session_id" to e.sessionId)
        is Event.StateChanged -> linkedMapOf("type" to "StateChanged", "session_id" to e.sessionId, "version" to num(e.version))
        is Event.ContextChanged -> linkedMapOf(
            "type" to "ContextChanged", "session_id" to e.sessionId,
            "ip_changed" to e.ipChanged, "user_agent_changed" to e.userAgentChanged,
        )
        is Event.CleanupCompleted -> linkedMapOf("type" to "CleanupCompleted", "removed" to num(e.removed))
    }

    /** An error as scenarios see it: `kind`, `message` and the variant's fields. */
    fun json(e: SessionkitException): Map<String, Any?> {
        val out = linkedMapOf<String, Any?>("kind" to e.kind(), "message" to e.toString())
        when (e) {
            is SessionkitException.Conflict -> out["current_version"] = num(e.currentVersion)
            is SessionkitException.LimitExceeded -> out["what"] = e.what
            is SessionkitException.InvalidInput -> { out["field"] = e.field; out["reason"] = e.reason }
            is SessionkitException.Corrupt -> out["what"] = e.what
            is SessionkitException.IncompatibleSchema -> { out["found"] = e.found; out["supported"] = e.supported }
            is SessionkitException.Storage -> out["storage_message"] = e.storageMessage
            else -> {}
        }
        return out
    }

    // ---- arguments ------------------------------------------------------------------------

    private fun Map<String, Any?>.text(name: String): String =
        this[name] as? String ?: throw ScenarioError("argument '$name' must be a string")

    private fun Map<String, Any?>.optText(name: String): String? = when (val v = this[name]) {
        null -> null
        is String -> v
        else -> throw ScenarioError("argument '$name' must be a string or null")
    }

    private fun Map<String, Any?>.flag(name: String): Boolean = when (val v = this[name]) {
        null -> false
        is Boolean -> v
        else -> throw ScenarioError("argument '$name' must be a boolean")
    }

    private fun Map<String, Any?>.optULong(name: String): ULong? = when (val v = this[name]) {
        null -> null
        is Long -> if (v >= 0) v.toULong() else throw ScenarioError("argument '$name' must not be negative")
        is BigInteger -> v.toString().toULongOrNull() ?: throw ScenarioError("argument '$name' out of range")
        else -> throw ScenarioError("argument '$name' must be an integer")
    }

    private fun Map<String, Any?>.jsonArg(name: String): String {
        if (!containsKey(name)) throw ScenarioError("argument '$name' is required")
        return Json.write(this[name])
    }

    /** Performs `op` through the Kotlin API; returns its result as JSON. */
    fun call(m: SessionManager, op: String, a: Map<String, Any?>): Any? = when (op) {
        "create" -> json(
            m.create(
                NewSession(
                    userId = a.text("user_id"),
                    clientKind = parseClientKind(a.text("client_kind")),
                    clientVersion = a.optText("client_version"),
                    device = a.optText("device"),
                    ip = a.optText("ip"),
                    userAgent = a.optText("user_agent"),
                    metadata = a["metadata"]?.let { Json.write(it) },
                ),
            ),
        )
        "validate" -> json(m.validate(a.text("token")))
        "get" -> json(m.get(a.text("id")))
        "touch" -> json(m.touch(a.text("id")))
        "update_metadata" -> json(m.updateMetadata(a.text("id"), a.jsonArg("patch")))
        "rotate" -> json(m.rotate(a.text("id")))
        "revoke" -> m.revoke(a.text("id")).let { null }
        "delete" -> m.delete(a.text("id")).let { null }
        "list_user_sessions" -> {
            var options = ListOptions(activeOnly = a.flag("active_only"), cursor = a.optText("cursor"))
            a.optULong("limit")?.let {
                options = options.copy(limit = if (it > UInt.MAX_VALUE.toULong()) UInt.MAX_VALUE else it.toUInt())
            }
            json(m.listUserSessions(a.text("user_id"), options))
        }
        "revoke_user_sessions" -> num(m.revokeUserSessions(a.text("user_id"), a.optText("except")))
        "cleanup_expired" -> num(m.cleanupExpired())
        "count_active" -> num(m.countActive())
        "count_user_sessions" -> num(m.countUserSessions(a.text("user_id"), a.flag("active_only")))
        "stats" -> json(m.stats())
        "get_state" -> m.getState(a.text("id"))?.let { json(it) }
        "put_state" -> num(m.putState(a.text("id"), a.jsonArg("data"), a.optULong("expected_version")))
        "patch_state" -> num(m.patchState(a.text("id"), a.jsonArg("patch"), a.optULong("expected_version")))
        "clear_state" -> m.clearState(a.text("id")).let { null }
        else -> throw ScenarioError("unknown operation '$op'")
    }

    /** The scenario's `config` as a [Config]; unknown keys and out-of-range values are errors. */
    fun config(fields: Map<*, *>): Config {
        var c = Config()
        fun long(k: Any?, v: Any?): Long = v as? Long ?: throw ScenarioError("config $k must be an integer")
        fun ulong(k: Any?, v: Any?): ULong = long(k, v).let { if (it >= 0) it.toULong() else throw ScenarioError("config $k must not be negative") }
        for ((k, v) in fields) {
            c = when (k) {
                "idle_timeout_ms" -> c.copy(idleTimeoutMs = long(k, v))
                "absolute_timeout_ms" -> c.copy(absoluteTimeoutMs = long(k, v))
                "touch_interval_ms" -> c.copy(touchIntervalMs = long(k, v))
                "max_sessions_per_user" -> c.copy(
                    maxSessionsPerUser = v?.let { ulong(k, it).also { u -> if (u > UInt.MAX_VALUE.toULong()) throw ScenarioError("config $k out of range") }.toUInt() },
                )
                "session_limit_policy" -> c.copy(sessionLimitPolicy = parseSessionLimitPolicy(v as? String ?: throw ScenarioError("config $k must be a string")))
                "context_policy" -> c.copy(contextPolicy = parseContextPolicy(v as? String ?: throw ScenarioError("config $k must be a string")))
                "state_compression_threshold" -> c.copy(stateCompressionThreshold = ulong(k, v))
                "state_max_bytes" -> c.copy(stateMaxBytes = ulong(k, v))
                else -> throw ScenarioError("unknown config field '$k'")
            }
        }
        return c
    }

    // ---- running ------------------------------------------------------------------------

    private fun checkStep(step: Map<*, *>, refs: Refs, ok: Boolean, value: Any?) {
        val expectedError = step["error"]
        when {
            ok && expectedError == null -> {
                if (step.containsKey("expect")) {
                    val expect = refs.resolve(step["expect"])
                    if (!matches(expect, value)) throw StepFailure("got ${Json.write(value)}, expected ${Json.write(expect)}")
                }
                (step["save"] as? String)?.let { refs.save(it, value) }
            }
            ok -> throw StepFailure("succeeded with ${Json.write(value)}, expected error ${Json.write(expectedError)}")
            expectedError != null -> {
                val resolved = refs.resolve(expectedError)
                val expected = if (resolved is String) mapOf("kind" to resolved) else resolved
                if (!matches(expected, value)) throw StepFailure("failed with ${Json.write(value)}, expected ${Json.write(expected)}")
            }
            else -> throw StepFailure("failed: ${Json.write(value)}")
        }
    }

    /** Runs one scenario on the manager `open` returns; throws naming the failing step. */
    fun run(scenario: Map<*, *>, open: (Config, ManualClock) -> SessionManager) {
        val name = scenario["name"]
        val config = config(scenario["config"] as? Map<*, *> ?: emptyMap<String, Any?>())
        val start = scenario["clock_start_ms"] as? Long ?: DEFAULT_CLOCK_START_MS
        ManualClock(start).use { clock ->
            val openError = scenario["open_error"]
            val manager = try {
                open(config, clock)
            } catch (e: SessionkitException) {
                if (openError == null) throw StepFailure("$name: open failed: ${json(e)}")
                val expected = if (openError is String) mapOf("kind" to openError) else openError
                if (!matches(expected, json(e))) throw StepFailure("$name: open failed with ${json(e)}, expected $openError")
                return
            }
            manager.use {
                if (openError != null) throw StepFailure("$name: open succeeded, expected error ${Json.write(openError)}")
                val events = ArrayList<Map<String, Any?>>()
                val listener = object : EventListener {
                    override fun onEvent(event: Event) {
                        synchronized(events) { events.add(json(event)) }
                    }
                }
                manager.subscribe(listener).use {
                    val refs = Refs()
                    (scenario["steps"] as? List<*> ?: emptyList<Any?>()).forEachIndexed { index, raw ->
                        val step = raw as Map<*, *>
                        val op = step["op"] as String
                        try {
                            @Suppress("UNCHECKED_CAST")
                            val args = refs.resolve(step["args"] ?: emptyMap<String, Any?>()) as Map<String, Any?>
                            var ok = true
                            val value: Any? = when (op) {
                                "advance" -> clock.advance(args["ms"] as? Long ?: throw ScenarioError("advance needs an integer ms"))
                                "events" -> synchronized(events) { ArrayList(events).also { events.clear() } }
                                else -> try {
                                    call(manager, op, args)
                                } catch (e: SessionkitException) {
                                    ok = false
                                    json(e)
                                }
                            }
                            checkStep(step, refs, ok, value)
                        } catch (e: StepFailure) {
                            throw StepFailure("$name step $index ($op): ${e.message}")
                        } catch (e: ScenarioError) {
                            throw StepFailure("$name step $index ($op): scenario error: ${e.message}")
                        }
                    }
                }
            }
        }
    }
}
