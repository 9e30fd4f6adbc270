import Foundation
@testable import LocalCluster
import Model
import XCTest

/// The in-process controllers' Events on a real store, counted and combined as client-go's recorder does.
final class ClusterEventsTests: XCTestCase {
    func testARepeatCountsOnItsEventAndMoreThanTenOthersAreCombined() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(path: directory + "/store.db", eventRetention: 10_000)
        let job: JSON = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "work", "namespace": "acme", "uid": "u-1", "resourceVersion": "7"]]
        let other: JSON = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "work-2", "namespace": "acme", "uid": "u-2"]]
        func refuse(_ job: JSON, _ pod: String) throws -> Int {
            try store.write { transaction in
                try ClusterEvents.recordRepeated(transaction, regarding: job, type: .jobs, eventType: "Warning", reason: "FailedCreate",
                                                 message: "Error creating: pods \"\(pod)\" is forbidden: exceeded quota: q", component: "job-controller")
            }
        }
        func events() throws -> [JSON] { try store.read { try $0.list(.events, namespace: "acme", after: nil, limit: 1000) } }

        XCTAssertEqual(try refuse(job, "work-aaaaa"), 1)
        XCTAssertEqual(try refuse(job, "work-aaaaa"), 2, "the same message again")
        XCTAssertEqual(try events().count, 1)
        XCTAssertEqual(try events().first?["count"], 2)
        XCTAssertEqual(try refuse(other, "work-2-ccccc"), 1, "another Job's Events are its own")
        for index in 0..<9 { XCTAssertEqual(try refuse(job, "work-b\(index)"), 3 + index) }
        let mine = { try events().filter { $0.value(at: ["involvedObject", "uid"]) == "u-1" } }
        XCTAssertEqual(try mine().count, 10, "ten Events with their own messages")
        XCTAssertEqual(try refuse(job, "work-c0"), 12)
        XCTAssertEqual(try refuse(job, "work-c1"), 13)
        let combined = try mine().filter { $0["message"]?.stringValue?.hasPrefix("(combined from similar events): ") == true }
        XCTAssertEqual(try mine().count, 11, "the eleventh and later are one Event")
        XCTAssertEqual(combined.first?["message"], #"(combined from similar events): Error creating: pods "work-c1" is forbidden: exceeded quota: q"#)
        XCTAssertEqual(combined.first?["count"], 2)
        XCTAssertEqual(combined.first?["source"]?["component"], "job-controller")
        XCTAssertEqual(combined.first?["involvedObject"]?["kind"], "Job")
    }
}
