import Audit
import Foundation
import Model
import Support
import Synchronization
import XCTest

/// The hash-chained audit trail: entries survive reopening, every edit or removal is found by
/// `verify`, naming the first bad entry (`tenantry audit verify` is in CommandsTests), pruning keeps it verifiable.
final class AuditLogTests: XCTestCase {
    var directory: URL!
    var path: String { directory.appendingPathComponent("audit.db").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func fill(_ log: AuditLog, count: Int, start: Date = Date()) throws {
        for index in 0..<count {
            try log.append(AuditRecord(timestamp: start.addingTimeInterval(Double(index)), namespace: index % 2 == 0 ? "payments-prod" : "docs",
                                       session: "s-\(index)", actor: "sam@acme.example", action: index == 2 ? "approve" : "view",
                                       outcome: "succeeded", details: ["n": .int(index)], traceID: "t-\(index)"))
        }
    }

    /// Changes the stored rows behind the log's back, as someone with the file could.
    private func tamper(_ sql: String) throws {
        try SQLiteDatabase(path: path).execute(sql)
    }

    func testEntriesAreChainedDurableAndWrittenAsJSONLines() throws {
        let lines = Mutex<[String]>([])
        let log = try AuditLog(path: path, jsonLines: { line in lines.withLock { $0.append(line) } })
        try fill(log, count: 5)
        let stored = lines.withLock { $0 }
        XCTAssertEqual(stored.count, 5)
        let first = try JSON(parsing: stored[0])
        XCTAssertEqual(first["sequence"], 1)
        XCTAssertEqual(first["actor"], "sam@acme.example")
        XCTAssertEqual(first["traceId"], "t-0")
        XCTAssertEqual(first["hash"]?.stringValue?.count, 64)

        // Reopened, the chain continues where it was.
        let reopened = try AuditLog(path: path)
        let sixth = try reopened.append(AuditRecord(namespace: "docs", actor: "ola@acme.example", action: "list", outcome: "denied"))
        XCTAssertEqual(sixth.sequence, 6)
        XCTAssertEqual(sixth.previousHash, try JSON(parsing: stored[4])["hash"]?.stringValue)
        XCTAssertEqual(try reopened.verify(), AuditVerification(checked: 6, firstBad: nil))

        let page = try reopened.entries(namespace: "payments-prod", limit: 2)
        XCTAssertEqual(page.map(\.sequence), [5, 3], "newest first, one namespace")
        XCTAssertEqual(page.last?.record.action, "approve")
        XCTAssertEqual(try reopened.entries(namespace: "payments-prod", before: 3).map(\.sequence), [1])
        XCTAssertEqual(try reopened.entries(namespace: "docs", actor: "ola@acme.example").map(\.sequence), [6])

        let intact = try AuditLog(path: path).verify()
        XCTAssertTrue(intact.intact)
        XCTAssertEqual(intact.description, "audit trail intact: 6 entries verified")
    }

    func testAnEditedEntryIsNamed() throws {
        try fill(try AuditLog(path: path), count: 6)
        try tamper("UPDATE audit SET outcome = 'denied' WHERE sequence = 4")
        XCTAssertEqual(try AuditLog(path: path).verify().firstBad?.sequence, 4)
        let result = try AuditLog(path: path).verify()
        XCTAssertFalse(result.intact)
        XCTAssertTrue(result.description.hasPrefix("audit trail broken at entry 4: its columns"), result.description)
    }

    func testAnEditedHashedEntryIsNamedEvenWithItsColumnsKeptConsistent() throws {
        try fill(try AuditLog(path: path), count: 6)
        try tamper("UPDATE audit SET entry = replace(entry, '\"n\":2', '\"n\":9') WHERE sequence = 3")
        let result = try AuditLog(path: path).verify()
        XCTAssertEqual(result.firstBad?.sequence, 3)
        XCTAssertEqual(result.firstBad?.reason, "its hash does not match its content: the entry was edited")
        XCTAssertEqual(result.checked, 2)
    }

    func testARemovedEntryAndARemovedTailAreNamed() throws {
        try fill(try AuditLog(path: path), count: 6)
        try tamper("DELETE FROM audit WHERE sequence = 2")
        let result = try AuditLog(path: path).verify()
        XCTAssertFalse(result.intact)
        XCTAssertTrue(result.description.contains("broken at entry 2: missing (the next stored entry is 3): removed"), result.description)

        try tamper("DELETE FROM audit; DELETE FROM audit_head;")
        let emptied = try AuditLog(path: path)
        try fill(emptied, count: 3)
        try tamper("DELETE FROM audit WHERE sequence = 3")
        XCTAssertEqual(try emptied.verify().firstBad?.sequence, 3, "the head still names entry 3")
    }

    func testPruningKeepsTheRestVerifiable() throws {
        let log = try AuditLog(path: path)
        let old = Date().addingTimeInterval(-8 * 365 * 86_400)
        try fill(log, count: 4, start: old)
        try fill(log, count: 3)
        XCTAssertEqual(try log.prune(before: Date().addingTimeInterval(-7 * 365 * 86_400)), 4)
        XCTAssertEqual(try log.verify(), AuditVerification(checked: 3, firstBad: nil))
        XCTAssertEqual(try log.append(AuditRecord(namespace: "docs", actor: "a", action: "view", outcome: "succeeded")).sequence, 8)
        XCTAssertTrue(try log.verify().intact)
        // Removing the first entry after the anchor is still caught.
        try tamper("DELETE FROM audit WHERE sequence = 5")
        XCTAssertEqual(try log.verify().firstBad?.sequence, 5)
    }
}
