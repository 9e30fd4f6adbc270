import Audit
import Foundation
import Model
import Support
import TestKit
import XCTest

/// The one rule `tenantry audit prune` and `serve` prune by: an explicit duration, else the longest of the
/// namespaces' `retention.auditLogs` (one chain holds them all), else 7y; what remains verifies.
final class AuditRetentionTests: XCTestCase {
    func testTheLongestPolicyDecidesAndAnExplicitDurationReplacesIt() {
        let policies = AuditRetention(policies: [TimeSpan("30d")!, TimeSpan("10y")!, TimeSpan("7y")!])
        XCTAssertEqual(policies.seconds, 10 * 31_536_000)
        XCTAssertEqual(policies.description, "10y (the longest retention.auditLogs of 3 namespaces)")
        XCTAssertEqual(AuditRetention(policies: []).text, "7y")
        XCTAssertEqual(AuditRetention(text: "90d", source: "--older-than")?.seconds, 90 * 86_400)
        XCTAssertNil(AuditRetention(text: "0d", source: "--older-than"))
        XCTAssertNil(AuditRetention(text: "soon", source: "--older-than"))
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        XCTAssertEqual(AuditRetention(text: "1h", source: "test")?.cutoff(now: now), now.addingTimeInterval(-3600))
    }

    func testPruningByARetentionKeepsWhatIsYoungerAndTheChainVerifiable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-retention-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog(path: path)
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        for (index, age) in [11.0, 11, 8, 0.001].enumerated() {
            try log.append(AuditRecord(timestamp: now.addingTimeInterval(-age * 31_536_000), namespace: "docs", session: "s-\(index)",
                                       actor: "sam@acme.example", action: "view", outcome: "succeeded"))
        }
        XCTAssertEqual(try log.prune(AuditRetention(policies: [TimeSpan("10y")!, TimeSpan("30d")!]), now: now), 2)
        XCTAssertEqual(try log.entries(namespace: "docs").map(\.record.session), ["s-3", "s-2"])
        XCTAssertTrue(try log.verify().intact)
        XCTAssertEqual(try log.prune(AuditRetention(policies: [TimeSpan("10y")!]), now: now), 0, "nothing more is old enough")
    }
}
