import Foundation
import Model
import Webhooks
import XCTest

/// The journal's committer thread lives until `close()`: closing is explicit, ends the thread, lets the
/// journal go, answers later submissions with 503, and keeps what was committed.
final class JournalCloseTests: XCTestCase {
    private func request(_ key: String) throws -> AdmissionRequest {
        let repo = try TestRepo.make()
        let table = try TenantTable.load(repo: repo.path)
        let policy = try XCTUnwrap(table.policies["ratey"])
        return AdmissionRequest(deliveryKey: key, sessionName: "s-\(key)", tenant: "t", namespace: "ns", model: "claude-sonnet-4-5",
                                tools: ["git"], estimatedCost: Amount("1.00")!, policy: policy,
                                budget: Budget(monthly: Amount("10.00")!, currency: "USD"), object: [:])
    }

    func testCloseEndsTheCommitterAndReleasesTheJournal() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-close-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let admitted = try request("kept")
        weak var released: Journal?
        try {
            let journal = try Journal(path: path)
            released = journal
            XCTAssertEqual(journal.submit(admitted), .admitted(session: "s-kept"))
            journal.close()
            journal.close()
            guard case .refused(let refusal) = journal.submit(try request("late")) else { return XCTFail("a closed journal admits nothing") }
            XCTAssertEqual(refusal.status, 503)
        }()
        XCTAssertNil(released, "once closed, the committer thread no longer holds the journal")

        let reopened = try Journal(path: path)
        defer { reopened.close() }
        XCTAssertEqual(reopened.depth, 1, "the admitted delivery was committed before close returned")
        XCTAssertEqual(try reopened.unfinished().map(\.session), ["s-kept"])
    }
}
