// The shared sync client scenarios (tests/client/scenarios.json) through the Kotlin
// SessionClient, against a real `sessionkit serve` (-Dsessionkit.bin) on loopback.
package dev.sessionkit.tests

import dev.sessionkit.ClientEvent
import dev.sessionkit.ClientListener
import dev.sessionkit.ClientOptions
import dev.sessionkit.ClientSubscription
import dev.sessionkit.ConnectionState
import dev.sessionkit.SessionClient
import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

object ClientScenarios {
    private const val ADMIN_KEY = "client-scenarios-admin-key-0123456789"
    private const val WAIT_S = 20L

    fun run(suite: Suite) {
        val root = File(System.getProperty("sessionkit.root") ?: ".")
        val file = File(root, "tests/client/scenarios.json")
        val scenarios = (Json.parse(file.readText()) as Map<*, *>)["scenarios"] as List<*>
        suite.test("client scenarios are found") { check(scenarios.isNotEmpty()) }
        for (scenario in scenarios) {
            scenario as Map<*, *>
            suite.test(scenario["name"] as String) {
                val dir = Files.createTempDirectory("sessionkit-kotlin-client").toFile()
                try {
                    runScenario(scenario, dir)
                } finally {
                    dir.deleteRecursively()
                }
            }
        }
    }

    /** `sessionkit serve` on a fixed free port, so a restart keeps the clients' URL. */
    private class Server(dir: File) {
        val db = File(dir, "server.db").path
        val port = ServerSocket(0).use { it.localPort }
        val url = "http://127.0.0.1:$port"
        private val log = File(dir, "server.log")
        private val http = HttpClient.newHttpClient()
        lateinit var process: Process

        init {
            start()
        }

        fun start() {
            val bin = System.getProperty("sessionkit.bin") ?: error("-Dsessionkit.bin is not set")
            val builder = ProcessBuilder(
                bin, "--db", db, "serve", "--listen", "127.0.0.1:$port", "--heartbeat-ms", "300",
            ).redirectError(ProcessBuilder.Redirect.appendTo(log))
            builder.environment()["SESSIONKIT_ADMIN_KEY"] = ADMIN_KEY
            process = builder.start()
            val line = process.inputStream.bufferedReader().readLine() ?: ""
            check(line.startsWith("listening on http://")) { "server did not start: $line" }
        }

        fun stop() {
            process.destroy() // SIGTERM
            check(process.waitFor(30, TimeUnit.SECONDS)) { "server did not stop" }
            checkEq(0, process.exitValue(), "server exit code")
        }

        fun admin(method: String, path: String, body: Any? = null): Pair<Int, Any?> {
            val publisher = if (body == null) HttpRequest.BodyPublishers.noBody()
            else HttpRequest.BodyPublishers.ofString(Json.write(body))
            val request = HttpRequest.newBuilder(URI.create(url + path))
                .header("Authorization", "Bearer $ADMIN_KEY")
                .header("Content-Type", "application/json")
                .method(method, publisher)
                .build()
            val response = http.send(request, HttpResponse.BodyHandlers.ofString())
            val text = response.body()
            return response.statusCode() to (if (text.isBlank()) null else Json.parse(text))
        }
    }

    private class Client(url: String, path: String) {
        val events = LinkedBlockingQueue<ClientEvent>()
        val client = SessionClient.openSqlite(
            url, path, ClientOptions(heartbeatMs = 300uL, backoffInitialMs = 100uL), null,
        )
        private val subscription: ClientSubscription = client.subscribe(object : ClientListener {
            override fun onEvent(event: ClientEvent) {
                events.put(event)
            }
        })

        fun waitFor(type: String, fields: Map<*, *>) {
            while (true) {
                val event = events.poll(WAIT_S, TimeUnit.SECONDS)
                    ?: throw AssertionError("no $type $fields within $WAIT_S s")
                val (name, values) = describe(event)
                if (name == type && fields.all { (k, v) -> values[k] == v }) return
            }
        }

        fun close() {
            subscription.unsubscribe()
            client.close() // AutoCloseable: releases the native client, which stops it

        }
    }

    private fun describe(event: ClientEvent): Pair<String, Map<String, Any?>> = when (event) {
        is ClientEvent.ConnectionEstablished -> "connection_established" to emptyMap()
        is ClientEvent.ConnectionLost -> "connection_lost" to emptyMap()
        is ClientEvent.ConnectionRestored -> "connection_restored" to emptyMap()
        is ClientEvent.AuthRequired -> "auth_required" to mapOf("reason" to event.reason)
        is ClientEvent.SessionExpiring -> "session_expiring" to mapOf("expires_at" to event.expiresAt)
        is ClientEvent.StateSynchronized ->
            "state_synchronized" to mapOf("version" to event.version.toLong())
        is ClientEvent.SyncConflict -> "sync_conflict" to mapOf("resolution" to event.resolution)
        is ClientEvent.Error -> "error" to mapOf("kind" to event.kind, "message" to event.message)
    }

    private fun connectionName(state: ConnectionState): String = when (state) {
        is ConnectionState.Disconnected -> "disconnected"
        is ConnectionState.Connecting -> "connecting"
        is ConnectionState.Connected -> "connected"
        is ConnectionState.Reconnecting -> "reconnecting"
        is ConnectionState.SignedOut -> "signed_out"
    }

    private fun state(text: String?): Any? = text?.let { Json.parse(it) }

    private fun runScenario(scenario: Map<*, *>, dir: File) {
        val server = Server(dir)
        val sessions = mutableMapOf<String, Map<*, *>>()
        val clients = mutableMapOf<String, Client>()
        fun sessionId(step: Map<*, *>) =
            (sessions[step["session"]]!!["session"] as Map<*, *>)["id"] as String
        try {
            for (step in scenario["steps"] as List<*>) {
                step as Map<*, *>
                val client = clients[step["client"]]
                when (val action = step["do"]) {
                    "create" -> {
                        val (status, created) = server.admin(
                            "POST", "/v1/admin/sessions",
                            mapOf("user_id" to step["user"], "client_kind" to "mobile"),
                        )
                        checkEq(201, status, "create status")
                        sessions[step["as"] as String] = created as Map<*, *>
                    }
                    "open" -> clients[step["client"] as String] =
                        Client(server.url, File(dir, "${step["client"]}.db").path)
                    "close" -> clients.remove(step["client"])!!.close()
                    "sign_in" -> client!!.client.signIn(sessions[step["session"]]!!["token"] as String)
                    "patch" -> client!!.client.patchState(Json.write(step["value"]))
                    "put" -> client!!.client.putState(Json.write(step["value"]))
                    "sync" -> {
                        val r = client!!.client.sync()
                        val got = mapOf(
                            "pushed" to r.pushed.toLong(), "pulled" to r.pulled.toLong(),
                            "conflicts" to r.conflicts.toLong(), "version" to r.version.toLong(),
                            "pending" to r.pending.toLong(), "offline" to r.offline,
                        )
                        (step["expect"] as Map<*, *>? ?: emptyMap<String, Any>()).forEach { (k, v) ->
                            checkEq(v, got[k], "sync $k")
                        }
                    }
                    "recover" -> {
                        val r = client!!.client.recover()
                        val got = mapOf(
                            "outcome" to r.outcome, "reason" to r.reason,
                            "version" to r.version.toLong(), "pending" to r.pending.toLong(),
                        )
                        (step["expect"] as Map<*, *>? ?: emptyMap<String, Any>()).forEach { (k, v) ->
                            checkEq(v, got[k], "recover $k")
                        }
                    }
                    "offline" -> client!!.client.setOnline(false)
                    "online" -> client!!.client.setOnline(true)
                    "admin_patch" -> checkEq(
                        200,
                        server.admin(
                            "PATCH", "/v1/admin/sessions/${sessionId(step)}/state",
                            mapOf("patch" to step["value"]),
                        ).first,
                        "admin patch status",
                    )
                    "revoke" -> checkEq(
                        204,
                        server.admin("POST", "/v1/admin/sessions/${sessionId(step)}/revoke").first,
                        "revoke status",
                    )
                    "restart_server" -> {
                        server.stop()
                        clients.values.forEach { it.waitFor("connection_lost", emptyMap<String, Any>()) }
                        (step["patch_while_down"] as Map<*, *>?)?.let { during ->
                            clients[during["client"]]!!.client.patchState(Json.write(during["value"]))
                        }
                        server.start()
                    }
                    "wait" -> client!!.waitFor(
                        step["event"] as String, step["fields"] as Map<*, *>? ?: emptyMap<String, Any>(),
                    )
                    "state" -> checkEq(step["expect"], state(client!!.client.state()), "state")
                    "server_state" -> {
                        val (_, body) = server.admin("GET", "/v1/admin/sessions/${sessionId(step)}/state")
                        checkEq(step["expect"], (body as Map<*, *>?)?.get("data"), "server state")
                    }
                    "connection" -> checkEq(
                        step["expect"], connectionName(client!!.client.connectionState()), "connection",
                    )
                    "pending" -> checkEq(
                        step["expect"], client!!.client.metrics().pendingChanges.toLong(), "pending",
                    )
                    else -> throw AssertionError("unknown step $action")
                }
            }
        } finally {
            clients.values.forEach { it.close() }
            if (server.process.isAlive) server.stop()
        }
    }
}
