// The conformance scenario runner for the Swift face (format: tests/conformance/README.md).
// Every scenario runs on a fresh store through the generated Swift API, as an app would call
// it; results become JSON with SPEC field names and are matched like the Rust runner does.
import Foundation
import SessionKit

struct ScenarioError: Error, CustomStringConvertible {
    let description: String
}

struct StepFailure: Error, CustomStringConvertible {
    let description: String
}

final class EventRecorder: EventListener, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [JSON] = []

    func onEvent(event: Event) throws {
        lock.lock()
        events.append(Conformance.json(event))
        lock.unlock()
    }

    func take() -> [JSON] {
        lock.lock()
        defer { lock.unlock() }
        let taken = events
        events = []
        return taken
    }
}

enum Conformance {
    static let defaultClockStartMs: Int64 = 1_700_000_000_000

    /// The repository root: the first directory up from this file holding tests/conformance.
    static func repoRoot() throws -> URL {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("tests/conformance").path) {
                return dir
            }
            dir = dir.deletingLastPathComponent()
        }
        throw ScenarioError(description: "no tests/conformance above \(#filePath)")
    }

    /// Every scenario file, sorted by name (never a fixed list).
    static func scenarioFiles() throws -> [URL] {
        let dir = try repoRoot().appendingPathComponent("tests/conformance")
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    // MARK: references and expressions

    final class Refs {
        private var saved: [String: JSON] = [:]

        func save(_ name: String, _ value: JSON) {
            saved[name] = value
        }

        func resolve(_ value: JSON) throws -> JSON {
            switch value {
            case .string(let s):
                if s.hasPrefix("$$") { return .string(String(s.dropFirst())) }
                if s.hasPrefix("$") { return try lookup(String(s.dropFirst())) }
                return value
            case .array(let items):
                return .array(try items.map { try resolve($0) })
            case .object(let map):
                if map.count == 1, let parts = map["$concat"] {
                    guard case .array(let items) = try resolve(parts) else {
                        throw ScenarioError(description: "$concat takes an array")
                    }
                    return .string(items.map { $0.stringValue ?? $0.text }.joined())
                }
                if map.count == 1, let args = map["$repeat"] {
                    guard case .array(let items) = try resolve(args), items.count == 2,
                          let text = items[0].stringValue, let count = items[1].intValue, count >= 0
                    else { throw ScenarioError(description: "$repeat takes [string, non-negative count]") }
                    return .string(String(repeating: text, count: Int(count)))
                }
                var out: [String: JSON] = [:]
                for (k, v) in map { out[k] = try resolve(v) }
                return .object(out)
            default:
                return value
            }
        }

        private func lookup(_ path: String) throws -> JSON {
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard var current = saved[parts[0]] else {
                throw ScenarioError(description: "no saved result named '\(parts[0])'")
            }
            for part in parts.dropFirst() {
                switch current {
                case .object(let map) where map[part] != nil:
                    current = map[part]!
                case .array(let items) where Int(part).map({ $0 >= 0 && $0 < items.count }) == true:
                    current = items[Int(part)!]
                default:
                    throw ScenarioError(description: "$\(path): nothing at '\(part)'")
                }
            }
            return current
        }
    }

    // MARK: matching

    /// Subset matching with the `$type`, `$len` and `$ne` matchers.
    static func matches(_ expected: JSON, _ actual: JSON) -> Bool {
        if case .object(let map) = expected, map.count == 1 {
            if let type = map["$type"] { return type.stringValue == actual.typeName }
            if let len = map["$len"] {
                switch actual {
                case .array(let items): return len.intValue == Int64(items.count)
                case .string(let s): return len.intValue == Int64(s.unicodeScalars.count)
                default: return false
                }
            }
            if let other = map["$ne"] { return !JSON.same(other, actual) }
        }
        switch expected {
        case .object(let map):
            guard case .object(let got) = actual else { return false }
            return map.allSatisfy { key, value in
                if let a = got[key] { return matches(value, a) }
                return value == .null
            }
        case .array(let items):
            guard case .array(let got) = actual, got.count == items.count else { return false }
            return zip(items, got).allSatisfy { matches($0, $1) }
        default:
            return JSON.same(expected, actual)
        }
    }

    // MARK: results as JSON

    static func num(_ v: UInt64) -> JSON { v <= UInt64(Int64.max) ? .int(Int64(v)) : .double(Double(v)) }

    static func opt(_ s: String?) -> JSON {
        guard let s = s else { return .null }
        return .string(s)
    }

    static func json(_ s: Session) throws -> JSON {
        let metadata = try JSON.parse(s.metadata)
        return .object([
            "id": .string(s.id),
            "user_id": .string(s.userId),
            "created_at": .int(s.createdAt),
            "last_active_at": .int(s.lastActiveAt),
            "expires_at": .int(s.expiresAt),
            "absolute_expires_at": .int(s.absoluteExpiresAt),
            "client": .object(["kind": .string(String(describing: s.client.kind)), "version": opt(s.client.version), "device": opt(s.client.device)]),
            "ip": opt(s.ip),
            "user_agent": opt(s.userAgent),
            "active": .bool(s.active),
            "metadata": metadata,
        ])
    }

    static func json(_ c: Created) throws -> JSON {
        let session = try json(c.session)
        return .object(["session": session, "token": .string(c.token)])
    }

    static func json(_ p: Page) throws -> JSON {
        let items = try p.items.map { try json($0) }
        return .object(["items": .array(items), "next_cursor": opt(p.nextCursor)])
    }

    static func json(_ s: State) throws -> JSON {
        let data = try JSON.parse(s.data)
        return .object([
            "version": num(s.version),
            "data": data,
            "checksum": .string(s.checksum),
            "size": num(s.size),
            "compressed": .bool(s.compressed),
            "stored_size": num(s.storedSize),
            "updated_at": .int(s.updatedAt),
        ])
    }

    static func json(_ s: Stats) -> JSON {
        .object([
            "total": num(s.total),
            "active": num(s.active),
            "created_last_24h": num(s.createdLast24h),
            "created_last_7d": num(s.createdLast7d),
            "by_client_kind": .object(s.byClientKind.mapValues { num($0) }),
            "average_duration_ms": .int(s.averageDurationMs),
        ])
    }

    static func json(_ e: Event) -> JSON {
        switch e {
        case .created(let sessionId, let userId):
            return .object(["type": "Created", "session_id": .string(sessionId), "user_id": .string(userId)])
        case .rotated(let oldSessionId, let sessionId, let userId):
            return .object([
                "type": "Rotated", "old_session_id": .string(oldSessionId),
                "session_id": .string(sessionId), "user_id": .string(userId),
            ])
        case .metadataUpdated(let sessionId):
            return .object(["type": "MetadataUpdated", "session_id": .string(sessionId)])
        case .revoked(let sessionId):
            return .object(["type": "Revoked", "session_id": .string(sessionId)])
        case .deleted(let sessionId):
            return .object(["type": "Deleted", "session_id": .string(sessionId)])
        case .expired(let sessionId):
            return .object(["type": "Expired", "session_id": .string(sessionId)])
        case .stateChanged(let sessionId, let version):
            return .object(["type": "StateChanged", "session_id": .string(sessionId), "version": num(version)])
        case .cleanupCompleted(let removed):
            return .object(["type": "CleanupCompleted", "removed": num(removed)])
        }
    }

    /// An error as scenarios see it: `kind`, `message` and the variant's fields.
    static func json(_ e: SessionkitError) -> JSON {
        var out: [String: JSON] = ["kind": .string(e.kind()), "message": .string(e.describe())]
        switch e {
        case .Conflict(let currentVersion): out["current_version"] = num(currentVersion)
        case .LimitExceeded(let what): out["what"] = .string(what)
        case .InvalidInput(let field, let reason): out["field"] = .string(field); out["reason"] = .string(reason)
        case .Corrupt(let what): out["what"] = .string(what)
        case .IncompatibleSchema(let found, let supported): out["found"] = .int(found); out["supported"] = .int(supported)
        case .Storage(let message): out["storage_message"] = .string(message)
        default: break
        }
        return .object(out)
    }

    // MARK: arguments

    static func text(_ a: [String: JSON], _ name: String) throws -> String {
        guard let s = a[name]?.stringValue else { throw ScenarioError(description: "argument '\(name)' must be a string") }
        return s
    }

    static func optText(_ a: [String: JSON], _ name: String) throws -> String? {
        switch a[name] {
        case nil, .some(.null): return nil
        case .some(.string(let s)): return s
        default: throw ScenarioError(description: "argument '\(name)' must be a string or null")
        }
    }

    static func flag(_ a: [String: JSON], _ name: String) throws -> Bool {
        switch a[name] {
        case nil, .some(.null): return false
        case .some(.bool(let b)): return b
        default: throw ScenarioError(description: "argument '\(name)' must be a boolean")
        }
    }

    static func optUInt64(_ a: [String: JSON], _ name: String) throws -> UInt64? {
        switch a[name] {
        case nil, .some(.null): return nil
        case .some(.int(let i)) where i >= 0: return UInt64(i)
        default: throw ScenarioError(description: "argument '\(name)' must be a non-negative integer")
        }
    }

    static func jsonArg(_ a: [String: JSON], _ name: String) throws -> String {
        guard let v = a[name] else { throw ScenarioError(description: "argument '\(name)' is required") }
        return v.text
    }

    /// Performs `op` through the Swift API; returns its result as JSON.
    static func call(_ m: SessionManager, _ op: String, _ a: [String: JSON]) throws -> JSON {
        switch op {
        case "create":
            let metadata: String?
            switch a["metadata"] {
            case nil, .some(.null): metadata = nil
            case .some(let v): metadata = v.text
            }
            let new = NewSession(
                userId: try text(a, "user_id"), clientKind: try parseClientKind(name: text(a, "client_kind")),
                clientVersion: try optText(a, "client_version"), device: try optText(a, "device"),
                ip: try optText(a, "ip"), userAgent: try optText(a, "user_agent"), metadata: metadata)
            return try json(try m.create(newSession: new))
        case "validate": return try json(try m.validate(token: try text(a, "token")))
        case "get": return try json(try m.get(id: try text(a, "id")))
        case "touch": return try json(try m.touch(id: try text(a, "id")))
        case "update_metadata": return try json(try m.updateMetadata(id: try text(a, "id"), patch: try jsonArg(a, "patch")))
        case "rotate": return try json(try m.rotate(id: try text(a, "id")))
        case "revoke": try m.revoke(id: try text(a, "id")); return .null
        case "delete": try m.delete(id: try text(a, "id")); return .null
        case "list_user_sessions":
            var options = ListOptions(activeOnly: try flag(a, "active_only"), cursor: try optText(a, "cursor"))
            if let limit = try optUInt64(a, "limit") { options.limit = UInt32(clamping: limit) }
            return try json(try m.listUserSessions(userId: try text(a, "user_id"), options: options))
        case "revoke_user_sessions":
            return num(try m.revokeUserSessions(userId: try text(a, "user_id"), except: try optText(a, "except")))
        case "cleanup_expired": return num(try m.cleanupExpired())
        case "count_active": return num(try m.countActive())
        case "count_user_sessions":
            return num(try m.countUserSessions(userId: try text(a, "user_id"), activeOnly: try flag(a, "active_only")))
        case "stats": return json(try m.stats())
        case "get_state":
            guard let state = try m.getState(id: try text(a, "id")) else { return .null }
            return try json(state)
        case "put_state":
            return num(try m.putState(id: try text(a, "id"), data: try jsonArg(a, "data"), expectedVersion: try optUInt64(a, "expected_version")))
        case "patch_state":
            return num(try m.patchState(id: try text(a, "id"), patch: try jsonArg(a, "patch"), expectedVersion: try optUInt64(a, "expected_version")))
        case "clear_state": try m.clearState(id: try text(a, "id")); return .null
        default: throw ScenarioError(description: "unknown operation '\(op)'")
        }
    }

    /// The scenario's `config` as a `Config`; unknown keys and out-of-range values are errors.
    static func config(_ fields: [String: JSON]) throws -> Config {
        var c = Config()
        func int(_ k: String, _ v: JSON) throws -> Int64 {
            guard let i = v.intValue else { throw ScenarioError(description: "config \(k) must be an integer") }
            return i
        }
        func uint(_ k: String, _ v: JSON) throws -> UInt64 {
            let i = try int(k, v)
            guard i >= 0 else { throw ScenarioError(description: "config \(k) must not be negative") }
            return UInt64(i)
        }
        for (k, v) in fields {
            switch k {
            case "idle_timeout_ms": c.idleTimeoutMs = try int(k, v)
            case "absolute_timeout_ms": c.absoluteTimeoutMs = try int(k, v)
            case "touch_interval_ms": c.touchIntervalMs = try int(k, v)
            case "max_sessions_per_user":
                if v == .null {
                    c.maxSessionsPerUser = nil
                } else {
                    let u = try uint(k, v)
                    guard u <= UInt64(UInt32.max) else { throw ScenarioError(description: "config \(k) out of range") }
                    c.maxSessionsPerUser = UInt32(u)
                }
            case "session_limit_policy":
                guard let s = v.stringValue else { throw ScenarioError(description: "config \(k) must be a string") }
                c.sessionLimitPolicy = try parseSessionLimitPolicy(name: s)
            case "context_policy":
                guard let s = v.stringValue else { throw ScenarioError(description: "config \(k) must be a string") }
                c.contextPolicy = try parseContextPolicy(name: s)
            case "state_compression_threshold": c.stateCompressionThreshold = try uint(k, v)
            case "state_max_bytes": c.stateMaxBytes = try uint(k, v)
            default: throw ScenarioError(description: "unknown config field '\(k)'")
            }
        }
        return c
    }

    // MARK: running

    static func checkStep(_ step: [String: JSON], _ refs: Refs, ok: Bool, value: JSON) throws {
        let expectedError = step["error"]
        if ok && expectedError == nil {
            if let expect = step["expect"] {
                let resolved = try refs.resolve(expect)
                guard matches(resolved, value) else { throw StepFailure(description: "got \(value.text), expected \(resolved.text)") }
            }
            if let name = step["save"]?.stringValue { refs.save(name, value) }
        } else if ok {
            throw StepFailure(description: "succeeded with \(value.text), expected error \(expectedError!.text)")
        } else if let expectedError = expectedError {
            var expected = try refs.resolve(expectedError)
            if case .string = expected { expected = .object(["kind": expected]) }
            guard matches(expected, value) else { throw StepFailure(description: "failed with \(value.text), expected \(expected.text)") }
        } else {
            throw StepFailure(description: "failed: \(value.text)")
        }
    }

    /// Runs one scenario on the manager `opener` returns; throws naming the failing step.
    static func run(_ scenario: JSON, opener: (Config, ManualClock) throws -> SessionManager) throws {
        let name = scenario["name"]?.stringValue ?? "?"
        guard case .object(let configFields) = scenario["config"] ?? .object([:]) else {
            throw ScenarioError(description: "\(name): config must be an object")
        }
        let clock = ManualClock(startMs: scenario["clock_start_ms"]?.intValue ?? defaultClockStartMs)
        let openError = scenario["open_error"]
        let manager: SessionManager
        do {
            manager = try opener(try config(configFields), clock)
        } catch let e as SessionkitError {
            guard let openError = openError else { throw StepFailure(description: "\(name): open failed: \(json(e).text)") }
            var expected = openError
            if case .string = expected { expected = .object(["kind": expected]) }
            guard matches(expected, json(e)) else {
                throw StepFailure(description: "\(name): open failed with \(json(e).text), expected \(openError.text)")
            }
            return
        }
        if let openError = openError {
            throw StepFailure(description: "\(name): open succeeded, expected error \(openError.text)")
        }
        let recorder = EventRecorder()
        let subscription = manager.subscribe(listener: recorder)
        defer { subscription.unsubscribe() }
        let refs = Refs()
        guard case .array(let steps) = scenario["steps"] ?? .array([]) else {
            throw ScenarioError(description: "\(name): steps must be an array")
        }
        for (index, step) in steps.enumerated() {
            guard case .object(let stepFields) = step, let op = stepFields["op"]?.stringValue else {
                throw ScenarioError(description: "\(name) step \(index): not a step")
            }
            do {
                guard case .object(let args) = try refs.resolve(stepFields["args"] ?? .object([:])) else {
                    throw ScenarioError(description: "args must be an object")
                }
                var ok = true
                let value: JSON
                switch op {
                case "advance":
                    guard let ms = args["ms"]?.intValue else { throw ScenarioError(description: "advance needs an integer ms") }
                    value = .int(clock.advance(ms: ms))
                case "events":
                    value = .array(recorder.take())
                default:
                    do {
                        value = try call(manager, op, args)
                    } catch let e as SessionkitError {
                        ok = false
                        value = json(e)
                    }
                }
                try checkStep(stepFields, refs, ok: ok, value: value)
            } catch let failure as StepFailure {
                throw StepFailure(description: "\(name) step \(index) (\(op)): \(failure.description)")
            } catch let failure as ScenarioError {
                throw StepFailure(description: "\(name) step \(index) (\(op)): scenario error: \(failure.description)")
            }
        }
    }
}
