// What Swift users rely on beyond the scenarios: defaults, errors with their kind and fields,
// listeners called back and unsubscribed, SQLite files that persist.
import Foundation
import SessionKit
import XCTest

final class ApiTests: XCTestCase {
    private let start: Int64 = 1_700_000_000_000

    func testConfigDefaultsAreTheEngines() {
        XCTAssertEqual(try SessionManager.openMemory(config: Config()).config(), defaultConfig())
        XCTAssertEqual(defaultConfig().sessionLimitPolicy, .reject)
        XCTAssertNil(Config().sessionLimitPolicy)
        XCTAssertEqual(try parseClientKind(name: "web"), .web)
        XCTAssertThrowsError(try parseClientKind(name: "Web"))
        XCTAssertNil(Config().maxSessionsPerUser)
        XCTAssertEqual(Config(idleTimeoutMs: 60_000).absoluteTimeoutMs, 2_592_000_000)
    }

    func testErrorsCarryKindAndFields() throws {
        let manager = try SessionManager.openMemory(config: Config(), clock: ManualClock(startMs: start))
        let id = try manager.createSession(user: "alice").session.id
        _ = try manager.putState(id: id, data: #"{"v":1}"#)
        XCTAssertThrowsError(try manager.putState(id: id, data: #"{"v":2}"#, expectedVersion: 7)) { error in
            guard let e = error as? SessionkitError, case .Conflict(let current) = e else {
                return XCTFail("expected Conflict, got \(error)")
            }
            XCTAssertEqual(e.kind(), "Conflict")
            XCTAssertEqual(current, 1)
        }
        XCTAssertThrowsError(try manager.get(id: "not-an-id")) { error in
            guard case .InvalidInput(let field, _)? = error as? SessionkitError else {
                return XCTFail("expected InvalidInput, got \(error)")
            }
            XCTAssertEqual(field, "id")
        }
        XCTAssertThrowsError(try manager.validate(token: "garbage")) { error in
            XCTAssertEqual((error as? SessionkitError)?.kind(), "InvalidToken")
        }
    }

    func testDescriptionsOfCreatedNeverShowTheToken() throws {
        let manager = try SessionManager.openMemory(config: Config(), clock: nil)
        let created = try manager.createSession(user: "alice")
        let secret = String(created.token.split(separator: ".").last ?? "")
        for text in [String(describing: created), String(reflecting: created), "\(created)"] {
            XCTAssertFalse(text.contains(secret), text)
            XCTAssertTrue(text.contains("<redacted>"), text)
        }
    }

    func testDumpAndMirrorOfCreatedNeverShowTheToken() throws {
        let manager = try SessionManager.openMemory(config: Config(), clock: nil)
        let created = try manager.createSession(user: "alice")
        let secret = String(created.token.split(separator: ".").last ?? "")
        var text = ""
        dump(created, to: &text)
        XCTAssertFalse(text.contains(secret), text)
        let children = Mirror(reflecting: created).children.map { "\($0.label ?? ""): \($0.value)" }
        XCTAssertTrue(children.contains("token: <redacted>"), "\(children)")
        XCTAssertFalse(children.joined().contains(secret))
    }

    func testListenerIsCalledBackUntilUnsubscribed() throws {
        let manager = try SessionManager.openMemory(config: Config(), clock: ManualClock(startMs: start))
        let recorder = EventRecorder()
        let subscription = manager.subscribe(listener: recorder)
        let created = try manager.createSession(user: "alice")
        XCTAssertTrue(subscription.isActive())
        subscription.unsubscribe()
        XCTAssertFalse(subscription.isActive())
        try manager.revoke(id: created.session.id)
        XCTAssertEqual(recorder.take(), [
            .object(["type": "Created", "session_id": .string(created.session.id), "user_id": "alice"]),
        ])
    }

    func testExpiryWithTheManualClock() throws {
        let clock = ManualClock(startMs: start)
        let manager = try SessionManager.openMemory(config: Config(), clock: clock)
        let token = try manager.createSession(user: "alice").token
        _ = clock.advance(ms: 31 * 60 * 1000)
        XCTAssertThrowsError(try manager.validate(token: token)) { error in
            XCTAssertEqual((error as? SessionkitError)?.kind(), "Expired")
        }
    }

    func testSqliteFilePersists() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sessions.db").path
        let token = try SessionManager.openSqlite(path: path).createSession(user: "alice").token
        XCTAssertEqual(try SessionManager.openSqlite(path: path).validate(token: token).userId, "alice")
    }
}

extension SessionManager {
    func createSession(user: String) throws -> Created {
        try create(newSession: NewSession(userId: user, clientKind: .web))
    }
}
