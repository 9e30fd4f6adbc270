import Audit
import Foundation
import Support
import TestSupport
import XCTest

/// `tenantry audit verify`: exit 0 and the count when the trail is intact, 1 naming the first bad entry,
/// 2 without a database (the chain itself is AuditTests').
final class AuditCommandTests: XCTestCase {
    var directory: URL!
    var path: String { directory.appendingPathComponent("audit.db").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = try AuditLog(path: path)
        for index in 0..<6 {
            try log.append(AuditRecord(namespace: "docs", session: "s-\(index)", actor: "sam@acme.example", action: "view", outcome: "succeeded"))
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func testAnIntactTrailExitsZeroWithItsCount() {
        let result = CLI.run(["audit", "verify", "--db", path])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(result.stdout, "audit trail intact: 6 entries verified\n")
        XCTAssertEqual(result.stderr, "")
    }

    func testAnEditedOrRemovedEntryExitsOneNamingIt() throws {
        try SQLiteDatabase(path: path).execute("UPDATE audit SET outcome = 'denied' WHERE sequence = 4")
        let edited = CLI.run(["audit", "verify", "--db", path])
        XCTAssertEqual(edited.code, 1)
        XCTAssertTrue(edited.stderr.contains("audit trail broken at entry 4: its columns"), edited.stderr)

        try SQLiteDatabase(path: path).execute("DELETE FROM audit WHERE sequence = 2")
        let removed = CLI.run(["audit", "verify", "--db", path])
        XCTAssertEqual(removed.code, 1)
        XCTAssertTrue(removed.stderr.contains("broken at entry 2: missing (the next stored entry is 3): removed"), removed.stderr)
    }

    func testTheCommandNeedsAnExistingDatabase() {
        let result = CLI.run(["audit", "verify", "--db", path + ".missing"])
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.stderr.contains("no audit database at"), result.stderr)
    }
}
