// The shared sync client scenarios (tests/client/scenarios.json) through the Swift
// SessionClient, against a real `sessionkit serve` (the `SESSIONKIT_BIN` binary, macOS only:
// iOS has no processes). Prints `swift client scenarios: N passed, N failed`.
#if os(macOS)
import Foundation
import SessionKit
import XCTest

private let adminKey = "client-scenarios-admin-key-0123456789"

/// `sessionkit serve` on a fixed free port, so a restart keeps the clients' URL.
private final class TestServer {
    let db: String
    let port: Int
    var process = Process()
    var url: String { "http://127.0.0.1:\(port)" }

    init(dir: URL) throws {
        db = dir.appendingPathComponent("server.db").path
        port = 20000 + Int.random(in: 0..<20000)
        try start()
    }

    func start() throws {
        guard let bin = ProcessInfo.processInfo.environment["SESSIONKIT_BIN"] else {
            throw ScenarioError(description: "SESSIONKIT_BIN is not set")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["--db", db, "serve", "--listen", "127.0.0.1:\(port)", "--heartbeat-ms", "300"]
        process.environment = ProcessInfo.processInfo.environment.merging(["SESSIONKIT_ADMIN_KEY": adminKey]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let line = String(data: out.fileHandleForReading.availableData, encoding: .utf8) ?? ""
        guard line.hasPrefix("listening on http://") else {
            throw ScenarioError(description: "server did not start: \(line)")
        }
    }

    func stop() {
        process.terminate() // SIGTERM
        process.waitUntilExit()
    }

    func admin(_ method: String, _ path: String, _ body: JSON? = nil) throws -> (Int, JSON?) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(adminKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body.map { Data($0.text.utf8) }
        let done = DispatchSemaphore(value: 0)
        var result: (Int, JSON?) = (0, nil)
        var failure: Error?
        URLSession.shared.dataTask(with: request) { data, response, error in
            defer { done.signal() }
            if let error { failure = error; return }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let text = data.flatMap { String(data: $0, encoding: .utf8) } ?? ""
            result = (status, text.isEmpty ? nil : try? JSON.parse(text))
        }.resume()
        done.wait()
        if let failure { throw failure }
        return result
    }
}

private final class Events: ClientListener, @unchecked Sendable {
    private var queue: [ClientEvent] = []
    private let lock = NSCondition()

    func onEvent(event: ClientEvent) throws {
        lock.lock()
        queue.append(event)
        lock.signal()
        lock.unlock()
    }

    func wait(_ type: String, _ fields: [String: JSON]) throws {
        let deadline = Date().addingTimeInterval(20)
        lock.lock()
        defer { lock.unlock() }
        while true {
            while queue.isEmpty {
                if !lock.wait(until: deadline) {
                    throw ScenarioError(description: "no \(type) \(fields) within 20 s")
                }
            }
            let (name, values) = describe(queue.removeFirst())
            if name == type && fields.allSatisfy({ values[$0.key] == $0.value }) { return }
        }
    }
}

private func describe(_ event: ClientEvent) -> (String, [String: JSON]) {
    switch event {
    case .connectionEstablished: return ("connection_established", [:])
    case .connectionLost: return ("connection_lost", [:])
    case .connectionRestored: return ("connection_restored", [:])
    case .authRequired(let reason): return ("auth_required", ["reason": .string(reason)])
    case .sessionExpiring(let expiresAt): return ("session_expiring", ["expires_at": .int(expiresAt)])
    case .stateSynchronized(let version): return ("state_synchronized", ["version": .int(Int64(version))])
    case .syncConflict(let resolution): return ("sync_conflict", ["resolution": .string(resolution)])
    case .error(let kind, let message): return ("error", ["kind": .string(kind), "message": .string(message)])
    }
}

private func connectionName(_ state: ConnectionState) -> String {
    switch state {
    case .disconnected: return "disconnected"
    case .connecting: return "connecting"
    case .connected: return "connected"
    case .reconnecting: return "reconnecting"
    case .signedOut: return "signed_out"
    }
}

private struct TestClient {
    let client: SessionClient
    let events: Events
    let subscription: ClientSubscription

    init(url: String, path: String) throws {
        client = try SessionClient.openSqlite(
            baseUrl: url, path: path, options: ClientOptions(heartbeatMs: 300, backoffInitialMs: 100))
        events = Events()
        subscription = client.subscribe(listener: events)
    }

    func close() {
        subscription.unsubscribe()
        client.shutdown()
    }
}

final class ClientScenarioTests: XCTestCase {
    func testEveryClientScenario() throws {
        let file = try Conformance.repoRoot().appendingPathComponent("tests/client/scenarios.json")
        guard case .array(let scenarios)? = try JSON.parse(String(contentsOf: file, encoding: .utf8))["scenarios"] else {
            return XCTFail("no scenarios")
        }
        var passed = 0
        var failed = 0
        for scenario in scenarios {
            let name = scenario["name"]?.stringValue ?? "?"
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-client-\(UUID().uuidString)")
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: dir) }
                try run(scenario, dir: dir)
                passed += 1
            } catch {
                failed += 1
                XCTFail("\(name): \(error)")
            }
        }
        print("swift client scenarios: \(passed) passed, \(failed) failed")
    }

    private func expect(_ expected: JSON?, _ actual: JSON?, _ what: String) throws {
        if (expected ?? .null) != (actual ?? .null) {
            throw ScenarioError(description: "\(what): expected \(expected?.text ?? "null"), got \(actual?.text ?? "null")")
        }
    }

    private func run(_ scenario: JSON, dir: URL) throws {
        let server = try TestServer(dir: dir)
        var sessions: [String: JSON] = [:]
        var clients: [String: TestClient] = [:]
        defer {
            clients.values.forEach { $0.close() }
            if server.process.isRunning { server.stop() }
        }
        func sessionId(_ step: JSON) -> String {
            sessions[step["session"]?.stringValue ?? ""]?["session"]?["id"]?.stringValue ?? ""
        }
        guard case .array(let steps)? = scenario["steps"] else { return }
        for step in steps {
            let client = clients[step["client"]?.stringValue ?? ""]
            switch step["do"]?.stringValue ?? "" {
            case "create":
                let (status, created) = try server.admin("POST", "/v1/admin/sessions",
                    .object(["user_id": step["user"] ?? .null, "client_kind": .string("mobile")]))
                try expect(.int(201), .int(Int64(status)), "create status")
                sessions[step["as"]?.stringValue ?? ""] = created
            case "open":
                let name = step["client"]?.stringValue ?? ""
                clients[name] = try TestClient(url: server.url, path: dir.appendingPathComponent("\(name).db").path)
            case "close":
                clients.removeValue(forKey: step["client"]?.stringValue ?? "")?.close()
            case "sign_in":
                try client!.client.signIn(token: sessions[step["session"]?.stringValue ?? ""]?["token"]?.stringValue ?? "")
            case "patch":
                try client!.client.patchState(patch: (step["value"] ?? .null).text)
            case "put":
                try client!.client.putState(data: (step["value"] ?? .null).text)
            case "sync":
                let r = try client!.client.sync()
                let got: [String: JSON] = [
                    "pushed": .int(Int64(r.pushed)), "pulled": .int(Int64(r.pulled)),
                    "conflicts": .int(Int64(r.conflicts)), "version": .int(Int64(r.version)),
                    "pending": .int(Int64(r.pending)), "offline": .bool(r.offline),
                ]
                if case .object(let want)? = step["expect"] {
                    for (k, v) in want { try expect(v, got[k], "sync \(k)") }
                }
            case "recover":
                let r = try client!.client.recover()
                let got: [String: JSON] = [
                    "outcome": .string(r.outcome), "reason": r.reason.map { .string($0) } ?? .null,
                    "version": .int(Int64(r.version)), "pending": .int(Int64(r.pending)),
                ]
                if case .object(let want)? = step["expect"] {
                    for (k, v) in want { try expect(v, got[k], "recover \(k)") }
                }
            case "offline":
                try client!.client.setOnline(online: false)
            case "online":
                try client!.client.setOnline(online: true)
            case "admin_patch":
                let (status, _) = try server.admin("PATCH", "/v1/admin/sessions/\(sessionId(step))/state",
                    .object(["patch": step["value"] ?? .null]))
                try expect(.int(200), .int(Int64(status)), "admin patch status")
            case "revoke":
                let (status, _) = try server.admin("POST", "/v1/admin/sessions/\(sessionId(step))/revoke")
                try expect(.int(204), .int(Int64(status)), "revoke status")
            case "restart_server":
                server.stop()
                for c in clients.values { try c.events.wait("connection_lost", [:]) }
                if let during = step["patch_while_down"], let name = during["client"]?.stringValue {
                    try clients[name]!.client.patchState(patch: (during["value"] ?? .null).text)
                }
                try server.start()
            case "wait":
                var fields: [String: JSON] = [:]
                if case .object(let f)? = step["fields"] { fields = f }
                try client!.events.wait(step["event"]?.stringValue ?? "", fields)
            case "state":
                let text = try client!.client.state()
                try expect(step["expect"], try text.map { try JSON.parse($0) }, "state")
            case "server_state":
                let (_, body) = try server.admin("GET", "/v1/admin/sessions/\(sessionId(step))/state")
                try expect(step["expect"], body?["data"], "server state")
            case "connection":
                try expect(step["expect"], .string(connectionName(client!.client.connectionState())), "connection")
            case "pending":
                try expect(step["expect"], .int(Int64(client!.client.metrics().pendingChanges)), "pending")
            case let other:
                throw ScenarioError(description: "unknown step \(other)")
            }
        }
    }
}
#endif
