import ApplyTestSupport
import Foundation
import Model
import XCTest

final class FaultInjectionTests: XCTestCase {
    var cluster: TestCluster!
    let collection = "/api/v1/namespaces/default/configmaps"

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster.stop() }

    func testNoFaultsUnlessInjected() {
        for _ in 0..<5 { XCTAssertEqual(cluster.request("GET", collection).status, 200) }
    }

    func testThrottlingAndServerErrorsForTheNextRequests() {
        cluster.faults.inject(.tooManyRequests(retryAfterSeconds: 3), times: 2)
        let throttled = cluster.request("GET", collection)
        XCTAssertEqual(throttled.status, 429)
        XCTAssertEqual(throttled.headers["retry-after"], "3")
        XCTAssertEqual(throttled.json["reason"], "TooManyRequests")
        XCTAssertEqual(cluster.request("GET", "/api/v1").status, 200, "discovery is never faulted")
        XCTAssertEqual(cluster.request("GET", collection).status, 429)
        XCTAssertEqual(cluster.request("GET", collection).status, 200)

        cluster.faults.inject(.internalError)
        XCTAssertEqual(cluster.request("POST", collection, json: configMap("x")).status, 500)
        XCTAssertEqual(cluster.request("GET", collection + "/x").status, 404, "the faulted write did not happen")
    }

    func testLatencyDelaysButAnswers() {
        cluster.faults.inject(.latency(milliseconds: 50))
        let started = ContinuousClock.now
        XCTAssertEqual(cluster.request("GET", collection).status, 200)
        // A lower bound only: the answer cannot come before the injected delay (no upper limit on a shared machine).
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(50))
    }

    func testDroppedWatchEndsTheStream() {
        cluster.faults.inject(.dropWatch(afterEvents: 1))
        let watch = cluster.watch(collection + "?watch=1")
        defer { watch.close() }
        cluster.request("POST", collection, json: configMap("one"))
        cluster.request("POST", collection, json: configMap("two"))
        XCTAssertEqual(watch.next()?.object.at("metadata", "name"), "one")
        XCTAssertNil(watch.next())
    }
}
