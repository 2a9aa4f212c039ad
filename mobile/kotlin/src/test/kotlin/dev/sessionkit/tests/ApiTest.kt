// What Kotlin users rely on beyond the scenarios: the entry points' names and defaults,
// exceptions that carry their kind and fields, listeners called back and unsubscribed when
// closed, objects released by `use {}`, SQLite files that persist, threads and coroutines.
package dev.sessionkit.tests

import dev.sessionkit.ClientKind
import dev.sessionkit.Config
import dev.sessionkit.ContextPolicy
import dev.sessionkit.Event
import dev.sessionkit.ImportSummary
import dev.sessionkit.EventListener
import dev.sessionkit.ListOptions
import dev.sessionkit.ManualClock
import dev.sessionkit.NewSession
import dev.sessionkit.SessionLimitPolicy
import dev.sessionkit.SessionManager
import dev.sessionkit.SessionkitException
import dev.sessionkit.defaultConfig
import dev.sessionkit.parseClientKind
import dev.sessionkit.parseSessionLimitPolicy
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.concurrent.thread

object ApiTest {
    private const val START = 1_700_000_000_000L

    private class Recorder : EventListener {
        val events = CopyOnWriteArrayList<Event>()
        override fun onEvent(event: Event) {
            events.add(event)
        }
    }

    private fun withManager(body: (SessionManager, ManualClock) -> Unit) {
        ManualClock(START).use { clock ->
            SessionManager.openMemory(Config(), clock).use { manager -> body(manager, clock) }
        }
    }

    fun run(suite: Suite) {
        suite.test("state is encrypted at rest with the caller's keys") {
            val dir = Files.createTempDirectory("sessionkit-kotlin-keys").toFile()
            try {
                val b64 = java.util.Base64.getEncoder()
                val key1 = "1:" + b64.encodeToString(ByteArray(32) { it.toByte() })
                val key2 = "2:" + b64.encodeToString(ByteArray(32) { (it + 32).toByte() })
                val path = java.io.File(dir, "sessions.db").path
                val id = SessionManager.openSqlite(path, Config(), null, key1).use { manager ->
                    val created = manager.create(NewSession(userId = "alice", clientKind = ClientKind.MOBILE))
                    manager.putState(created.session.id, """{"secret":"plans"}""", null)
                    created.session.id
                }
                SessionManager.openSqlite(path, Config(), null, null).use { plain ->
                    val e = assertThrows<SessionkitException> { plain.getState(id) }
                    checkEq("Corrupt", e.kind(), "kind without the key")
                }
                SessionManager.openSqlite(path, Config(), null, "$key2\n$key1").use { rotated ->
                    checkEq("""{"secret":"plans"}""", rotated.getState(id)?.data, "data with the old key")
                }
                val fresh = java.io.File(dir, "fresh.db")
                val e = assertThrows<SessionkitException> {
                    SessionManager.openSqlite(fresh.path, Config(), null, "1:not-base64")
                }
                checkEq("InvalidInput", e.kind(), "kind of bad keys")
                check(!fresh.exists()) { "bad keys created a database" }
            } finally {
                dir.deleteRecursively()
            }
        }

        suite.test("Config() has the engine's defaults, every argument optional") {
            SessionManager.openMemory(Config()).use { checkEq(defaultConfig(), it.config(), "resolved Config()") }
            checkEq(SessionLimitPolicy.REJECT, defaultConfig().sessionLimitPolicy, "default limit policy")
            checkEq(ContextPolicy.SIGNAL, defaultConfig().contextPolicy, "default context policy")
            checkEq(null, Config().sessionLimitPolicy, "unset policy")
            val c = Config(idleTimeoutMs = 60_000, maxSessionsPerUser = 2u, sessionLimitPolicy = SessionLimitPolicy.EVICT_OLDEST)
            checkEq(2_592_000_000L, c.absoluteTimeoutMs, "absoluteTimeoutMs")
            checkEq(2u, c.maxSessionsPerUser, "maxSessionsPerUser")
            checkEq(null, Config().maxSessionsPerUser, "no limit by default")
        }

        suite.test("names parse to the enums with the engine's check") {
            checkEq(ClientKind.MOBILE, parseClientKind("mobile"))
            checkEq(SessionLimitPolicy.EVICT_OLDEST, parseSessionLimitPolicy("evict_oldest"))
            val e = assertThrows<SessionkitException.InvalidInput> { parseClientKind("Web") }
            checkEq("client_kind", e.field, "field")
        }

        suite.test("openMemory with defaults and camelCase records") {
            SessionManager.openMemory().use { m ->
                val created = m.create(NewSession(userId = "alice", clientKind = ClientKind.WEB, device = "Pixel 8", metadata = """{"k":1}"""))
                val s = m.validate(created.token)
                checkEq("alice", s.userId)
                checkEq(ClientKind.WEB, s.client.kind)
                checkEq("Pixel 8", s.client.device)
                checkEq(s.createdAt, s.lastActiveAt)
                checkEq(mapOf("k" to 1L), Json.parse(s.metadata))
                checkEq(created.session.id, created.token.substringBefore('.'))
            }
        }

        suite.test("toString of Created never shows the token") {
            SessionManager.openMemory().use { m ->
                val created = m.create(NewSession(userId = "alice", clientKind = ClientKind.WEB))
                val secret = created.token.substringAfter('.')
                for (text in listOf(created.toString(), "$created", listOf(created).toString())) {
                    check(!text.contains(secret) && !text.contains(created.token)) { "token in: $text" }
                    check(text.contains("<redacted>") && text.contains(created.session.id)) { text }
                }
                val rotated = m.rotate(created.session.id)
                check(!rotated.toString().contains(rotated.token.substringAfter('.'))) { rotated.toString() }
            }
        }

        suite.test("exceptions carry kind and fields") {
            withManager { m, _ ->
                val id = m.create(NewSession(userId = "alice", clientKind = ClientKind.WEB)).session.id
                m.putState(id, """{"v":1}""")
                val conflict = assertThrows<SessionkitException> { m.putState(id, """{"v":2}""", 7uL) }
                checkEq("Conflict", conflict.kind())
                check(conflict is SessionkitException.Conflict && conflict.currentVersion == 1uL) { "$conflict" }
                check(conflict.toString().contains("version conflict")) { conflict.toString() }
                val bad = assertThrows<SessionkitException.InvalidInput> { m.get("not-an-id") }
                checkEq("id", bad.field)
                checkEq("InvalidToken", assertThrows<SessionkitException> { m.validate("garbage") }.kind())
                checkEq("NotFound", assertThrows<SessionkitException> { m.get("AAAAAAAAAAAAAAAAAAAAAA") }.kind())
                val json = assertThrows<SessionkitException.InvalidInput> { m.putState(id, "{not json") }
                checkEq("data", json.field)
            }
            val config = assertThrows<SessionkitException.InvalidInput> { SessionManager.openMemory(Config(idleTimeoutMs = 0)) }
            checkEq("idle_timeout_ms", config.field)
        }

        suite.test("listener is called back and unsubscribed by close()") {
            withManager { m, _ ->
                val recorder = Recorder()
                val sub = m.subscribe(recorder)
                val created = m.create(NewSession(userId = "alice", clientKind = ClientKind.WEB))
                m.putState(created.session.id, """{"a":1}""")
                check(sub.isActive())
                sub.close()
                m.revoke(created.session.id)
                checkEq(
                    listOf<Event>(Event.Created(created.session.id, "alice"), Event.StateChanged(created.session.id, 1uL)),
                    recorder.events.toList(),
                )
            }
        }

        suite.test("use {} unsubscribes; unsubscribe() is idempotent") {
            withManager { m, _ ->
                val recorder = Recorder()
                m.subscribe(recorder).use { m.create(NewSession(userId = "a", clientKind = ClientKind.WEB)) }
                val sub = m.subscribe(recorder)
                sub.unsubscribe()
                sub.unsubscribe()
                check(!sub.isActive())
                sub.close()
                m.create(NewSession(userId = "b", clientKind = ClientKind.WEB))
                checkEq(1, recorder.events.size, "events")
            }
        }

        suite.test("a throwing listener does not fail the operation") {
            withManager { m, _ ->
                val recorder = Recorder()
                val boom = object : EventListener {
                    override fun onEvent(event: Event) = throw IllegalStateException("listener bug")
                }
                m.subscribe(boom).use {
                    m.subscribe(recorder).use {
                        val id = m.create(NewSession(userId = "alice", clientKind = ClientKind.WEB)).session.id
                        checkEq("alice", m.get(id).userId)
                    }
                }
                checkEq(1, recorder.events.size, "events")
            }
        }

        suite.test("closed objects are released and refuse further use") {
            val clock = ManualClock(START)
            val m = SessionManager.openMemory(Config(), clock)
            m.close()
            clock.close()
            assertThrows<IllegalStateException> { m.countActive() }
            assertThrows<IllegalStateException> { clock.advance(1) }
        }

        suite.test("listing, paging and sign out everywhere else") {
            withManager { m, clock ->
                val ids = (0 until 3).map {
                    m.create(NewSession(userId = "alice", clientKind = ClientKind.MOBILE)).session.id.also { clock.advance(1000) }
                }
                val page = m.listUserSessions("alice", ListOptions(limit = 2u))
                checkEq(listOf(ids[2], ids[1]), page.items.map { it.id })
                val rest = m.listUserSessions("alice", ListOptions(limit = 2u, cursor = page.nextCursor))
                checkEq(listOf(ids[0]), rest.items.map { it.id })
                checkEq(2uL, m.revokeUserSessions("alice", except = ids[0]))
                checkEq(1uL, m.countUserSessions("alice", activeOnly = true))
                checkEq(3uL, m.stats().byClientKind["mobile"])
            }
        }

        suite.test("expiry with the manual clock") {
            withManager { m, clock ->
                val token = m.create(NewSession(userId = "alice", clientKind = ClientKind.WEB)).token
                clock.advance(31 * 60 * 1000)
                checkEq("Expired", assertThrows<SessionkitException> { m.validate(token) }.kind())
            }
        }

        suite.test("SQLite file persists across managers") {
            val dir = Files.createTempDirectory("sessionkit-kotlin")
            try {
                val path = dir.resolve("sessions.db").toString()
                val token = SessionManager.openSqlite(path).use { m ->
                    val created = m.create(NewSession(userId = "alice", clientKind = ClientKind.DESKTOP))
                    m.putState(created.session.id, """{"draft":"hi"}""")
                    created.token
                }
                SessionManager.openSqlite(path).use { m ->
                    val s = m.validate(token)
                    checkEq("""{"draft":"hi"}""", m.getState(s.id)?.data)
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        suite.test("export and import: memory to SQLite to memory unchanged") {
            fun exportAll(m: SessionManager): List<String> {
                val out = mutableListOf<String>()
                var after: String? = null
                while (true) {
                    val page = m.exportSessions(after, 2u)
                    if (page.isEmpty()) return out
                    out += page
                    @Suppress("UNCHECKED_CAST")
                    val session = (Json.parse(page.last()) as Map<String, Any?>)["session"] as Map<String, Any?>
                    after = session["id"] as String
                }
            }
            val dir = Files.createTempDirectory("sessionkit-kotlin-export")
            try {
                ManualClock(START).use { clock ->
                    SessionManager.openMemory(Config(), clock).use { source ->
                        val a = source.create(NewSession(userId = "alice", clientKind = ClientKind.WEB, metadata = """{"theme":"dark"}"""))
                        val b = source.create(NewSession(userId = "bob", clientKind = ClientKind.MOBILE))
                        source.putState(a.session.id, """{"cart":[1,2,3]}""", null)
                        source.revoke(b.session.id)
                        val exported = exportAll(source)
                        checkEq(2, exported.size, "exported")
                        check(exported.none { it.contains(a.token) }) { "a token was exported" }
                        val path = dir.resolve("sessions.db").toString()
                        SessionManager.openSqlite(path, Config(), clock).use { sqlite ->
                            checkEq(ImportSummary(2uL, 0uL), sqlite.importSessions(exported), "into SQLite")
                            SessionManager.openMemory(Config(), clock).use { back ->
                                checkEq(ImportSummary(2uL, 0uL), back.importSessions(exportAll(sqlite)), "back")
                                checkEq(exported, exportAll(back), "records after the round trip")
                                checkEq("""{"theme":"dark"}""", back.validate(a.token).metadata, "metadata")
                                checkEq("""{"cart":[1,2,3]}""", back.getState(a.session.id)?.data, "state")
                                assertThrows<SessionkitException.Revoked> { back.validate(b.token) }
                                checkEq(ImportSummary(0uL, 2uL), back.importSessions(exported), "again")
                            }
                        }
                    }
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        suite.test("import: a bad record is refused and nothing is imported") {
            withManager { source, clock ->
                source.create(NewSession(userId = "a", clientKind = ClientKind.WEB))
                source.create(NewSession(userId = "b", clientKind = ClientKind.WEB))
                val good = source.exportSessions(null, 100u)
                SessionManager.openMemory(Config(), clock).use { target ->
                    val parse = assertThrows<SessionkitException.InvalidInput> {
                        target.importSessions(listOf(good[0], "{not json", good[1]))
                    }
                    checkEq("records[1]", parse.field, "field")
                    val badHash = good[1].replace(Regex("\"token_hash\":\"[^\"]*\""), "\"token_hash\":\"AAAA\"")
                    val check = assertThrows<SessionkitException.InvalidInput> {
                        target.importSessions(listOf(good[0], badHash))
                    }
                    checkEq("records[1].token_hash", check.field, "field")
                    checkEq(emptyList<String>(), target.exportSessions(null, 100u), "imported")
                }
            }
        }

        suite.test("threads share one manager") {
            SessionManager.openMemory().use { m ->
                val tokens = (0 until 8).map { m.create(NewSession(userId = "u$it", clientKind = ClientKind.WEB)).token }
                val errors = CopyOnWriteArrayList<Throwable>()
                tokens.map { token ->
                    thread { try { repeat(50) { m.validate(token) } } catch (e: Throwable) { errors.add(e) } }
                }.forEach { it.join() }
                checkEq(emptyList<Throwable>(), errors.toList())
            }
        }

        suite.test("blocking calls from coroutines on Dispatchers.IO") {
            SessionManager.openMemory().use { m ->
                val users = runBlocking {
                    (0 until 4).map { i ->
                        async(Dispatchers.IO) {
                            val token = m.create(NewSession(userId = "u$i", clientKind = ClientKind.WEB)).token
                            withContext(Dispatchers.IO) { m.validate(token).userId }
                        }
                    }.awaitAll()
                }
                checkEq(listOf("u0", "u1", "u2", "u3"), users)
            }
        }
    }
}
