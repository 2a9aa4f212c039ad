// Every scenario in tests/conformance through the Swift API, on the memory and SQLite stores,
// plus the shared state codec vectors. Each suite prints `swift …: N passed, N failed`.
import Foundation
import SessionKit
import XCTest

final class ConformanceTests: XCTestCase {
    private func runAll(store: String, opener: (URL, Config, ManualClock) throws -> SessionManager) throws {
        let files = try Conformance.scenarioFiles()
        XCTAssertFalse(files.isEmpty, "no scenario found in tests/conformance")
        var passed = 0
        var failed = 0
        for file in files {
            let name = file.deletingPathExtension().lastPathComponent
            do {
                let scenario = try JSON.parse(String(contentsOf: file, encoding: .utf8))
                XCTAssertEqual(scenario["name"]?.stringValue, name, "a scenario's name is its file name")
                let dir = FileManager.default.temporaryDirectory
                    .appendingPathComponent("sessionkit-swift-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: dir) }
                try Conformance.run(scenario) { config, clock in try opener(dir, config, clock) }
                passed += 1
            } catch {
                failed += 1
                XCTFail("\(name) (\(store)): \(error)")
            }
        }
        print("swift conformance (\(store)): \(passed) passed, \(failed) failed")
    }

    func testEveryScenarioOnTheMemoryStore() throws {
        try runAll(store: "memory") { _, config, clock in
            try SessionManager.openMemory(config: config, clock: clock)
        }
    }

    func testEveryScenarioOnTheSqliteStore() throws {
        try runAll(store: "sqlite") { dir, config, clock in
            try SessionManager.openSqlite(path: dir.appendingPathComponent("sessions.db").path, config: config, clock: clock)
        }
    }

    func testStateCodecVectors() throws {
        let url = try Conformance.repoRoot().appendingPathComponent("tests/vectors/state_codec.json")
        let doc = try JSON.parse(String(contentsOf: url, encoding: .utf8))
        guard case .array(let vectors)? = doc["vectors"], case .array(let corrupt)? = doc["corrupt"] else {
            return XCTFail("vectors file has no vectors")
        }
        XCTAssertGreaterThanOrEqual(vectors.count, 10)
        var passed = 0
        var failed = 0
        for v in vectors {
            let name = v["name"]?.stringValue ?? "?"
            let codec = StateCodec(
                compressionThreshold: UInt64(v["compression_threshold"]?.intValue ?? 0),
                maxBytes: UInt64(v["max_bytes"]?.intValue ?? 0))
            let blob = Data(base64Encoded: v["blob_base64"]?.stringValue ?? "") ?? Data()
            do {
                let encoded = try codec.encode(data: v["input_json"]?.stringValue ?? "")
                let decoded = try codec.decode(blob: blob)
                if encoded.blob == blob, encoded.checksum == v["checksum"]?.stringValue,
                   encoded.compressed == v["compressed"]?.boolValue,
                   Int64(encoded.size) == v["size"]?.intValue,
                   decoded.data == v["canonical_json"]?.stringValue, decoded.checksum == encoded.checksum {
                    passed += 1
                } else {
                    failed += 1
                    XCTFail("vector \(name): encoded or decoded form differs")
                }
            } catch {
                failed += 1
                XCTFail("vector \(name): \(error)")
            }
        }
        for v in corrupt {
            let name = v["name"]?.stringValue ?? "?"
            let codec = StateCodec(compressionThreshold: 10_240, maxBytes: UInt64(v["max_bytes"]?.intValue ?? 0))
            let blob = Data(base64Encoded: v["blob_base64"]?.stringValue ?? "") ?? Data()
            do {
                _ = try codec.decode(blob: blob)
                failed += 1
                XCTFail("corrupt \(name): decoded")
            } catch let e as SessionkitError where e.kind() == "Corrupt" {
                passed += 1
            } catch {
                failed += 1
                XCTFail("corrupt \(name): \(error)")
            }
        }
        print("swift vectors: \(passed) passed, \(failed) failed")
    }
}
