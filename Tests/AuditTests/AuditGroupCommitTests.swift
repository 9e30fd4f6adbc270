import Audit
import Foundation
import Model
import TestKit
import XCTest

/// Group commit: concurrent appends (durable before they return) and queued reads (appendSoon) all end up in
/// one chain, in order per caller, every one of them, and the chain verifies.
final class AuditGroupCommitTests: XCTestCase {
    func testConcurrentAppendsAndQueuedReadsMakeOneIntactChain() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try AuditLog(path: directory.appendingPathComponent("audit.db").path)
        let threads = 8, each = 40
        let group = DispatchGroup()
        let failures = LockedCount()
        for thread in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                for index in 0..<each {
                    let record = AuditRecord(namespace: "ns-\(thread)", session: "s-\(index)", actor: "user-\(thread)",
                                             action: thread % 2 == 0 ? "update" : "view", outcome: "succeeded", traceID: "t-\(thread)-\(index)")
                    do {
                        // Writers wait for the disk; readers only queue.
                        if thread % 2 == 0 { try log.append(record) } else { try log.appendSoon(record) }
                    } catch {
                        failures.add()
                    }
                }
            }.start()
        }
        group.wait()
        XCTAssertEqual(failures.value, 0)
        eventually("every queued read is written") { (try? log.entries(namespace: "ns-1", limit: 1000).count) == each }
        for thread in 0..<threads {
            let entries = try log.entries(namespace: "ns-\(thread)", limit: 1000)
            XCTAssertEqual(entries.count, each)
            // Newest first: the caller's own order, reversed.
            XCTAssertEqual(entries.map(\.record.session), (0..<each).reversed().map { "s-\($0)" })
        }
        let all = (0..<threads).flatMap { thread in (try? log.entries(namespace: "ns-\(thread)", limit: 1000)) ?? [] }
        XCTAssertEqual(Set(all.map(\.sequence)), Set((1...Int64(threads * each)).map { $0 }), "one sequence, no gaps, no repeats")
        let verification = try log.verify()
        XCTAssertTrue(verification.intact, "\(verification)")
    }
}

final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
