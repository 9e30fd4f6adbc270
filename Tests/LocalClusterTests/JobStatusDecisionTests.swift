import Foundation
@testable import LocalCluster
import Model
import XCTest

/// The job controller's pure decision: status and actions from a Job and its Pods.
final class JobStatusDecisionTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func job(_ spec: JSON = [:], status: JSON = [:]) -> JSON {
        var job: JSON = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j", "namespace": "default", "uid": "u1"],
                         "spec": ["backoffLimit": 6, "completions": 1, "parallelism": 1], "status": status]
        for (key, value) in spec.objectValue?.pairs ?? JSONObject().pairs { job.setValue(value, at: ["spec", key]) }
        return job
    }

    private func pod(_ name: String, _ phase: String, tracked: Bool = true, deleting: Bool = false, exit: Int? = nil, finished: Date? = nil) -> JobPod {
        JobPod(name: name, namespace: "default", phase: phase, deleting: deleting, tracked: tracked, finishedAt: finished,
               ready: phase == "Running", restarts: 0, exitCodes: exit.map { [("main", $0)] } ?? [], trueConditions: [])
    }

    private func types(_ plan: JobPlan) -> [String] { (plan.status["conditions"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue } }

    func testANewJobStartsOnePod() {
        let plan = JobStatusDecision(job: job(), pods: [], now: now, backoffBase: 10).plan()
        XCTAssertTrue(plan.createPod)
        XCTAssertEqual(plan.status["active"], 1)
        XCTAssertEqual(plan.status["startTime"]?.stringValue, WriteRequest.timestamp(now))
    }

    func testSuccessIsCountedOnceThenCompleteAfterSuccessCriteriaMet() {
        let plan = JobStatusDecision(job: job(), pods: [pod("p1", "Succeeded")], now: now, backoffBase: 10).plan()
        XCTAssertEqual(plan.release, ["p1"])
        XCTAssertEqual(plan.status["succeeded"], 1)
        XCTAssertEqual(types(plan), ["SuccessCriteriaMet", "Complete"])
        XCTAssertNotNil(plan.status["completionTime"])
        XCTAssertFalse(plan.createPod)
        // Already counted (finalizer gone): not counted again.
        let again = JobStatusDecision(job: job(status: plan.status), pods: [pod("p1", "Succeeded", tracked: false)], now: now, backoffBase: 10).plan()
        XCTAssertEqual(again.status["succeeded"], 1)
        XCTAssertTrue(again.release.isEmpty)
    }

    func testFailuresBeyondTheBackoffLimitFailTheJob() {
        let failed = [pod("p1", "Failed", tracked: false), pod("p2", "Failed", tracked: false), pod("p3", "Failed", exit: 1, finished: now)]
        let plan = JobStatusDecision(job: job(["backoffLimit": 2], status: ["failed": 2]), pods: failed, now: now, backoffBase: 10).plan()
        XCTAssertEqual(plan.status["failed"], 3)
        XCTAssertEqual(types(plan), ["FailureTarget", "Failed"])
        XCTAssertEqual(plan.status["conditions"]?.arrayValue?.last?["reason"], "BackoffLimitExceeded")
        XCTAssertFalse(plan.createPod)
    }

    func testAFailedPodIsReplacedAfterTheBackoffDelay() {
        let failedAt = now.addingTimeInterval(-5)
        let early = JobStatusDecision(job: job(), pods: [pod("p1", "Failed", exit: 1, finished: failedAt)], now: now, backoffBase: 10).plan()
        XCTAssertFalse(early.createPod)
        XCTAssertEqual(early.requeueAt, failedAt.addingTimeInterval(10))
        let later = JobStatusDecision(job: job(status: early.status), pods: [pod("p1", "Failed", tracked: false, finished: failedAt)],
                                      now: failedAt.addingTimeInterval(10), backoffBase: 10).plan()
        XCTAssertTrue(later.createPod)
    }

    func testTheDeadlineKillsThePodThenFailsOnceItIsGone() {
        let started: JSON = ["startTime": .string(WriteRequest.timestamp(now.addingTimeInterval(-2)))]
        let plan = JobStatusDecision(job: job(["activeDeadlineSeconds": 1], status: started), pods: [pod("p1", "Running")], now: now, backoffBase: 10).plan()
        XCTAssertEqual(plan.deletePods, ["p1"])
        XCTAssertEqual(types(plan), ["FailureTarget"], "Failed waits until the Pod has terminated")
        let after = JobStatusDecision(job: job(["activeDeadlineSeconds": 1], status: plan.status), pods: [pod("p1", "Failed", exit: 143)], now: now, backoffBase: 10).plan()
        XCTAssertEqual(types(after), ["FailureTarget", "Failed"])
        XCTAssertEqual(after.status["conditions"]?.arrayValue?.last?["reason"], "DeadlineExceeded")
        XCTAssertFalse(after.createPod)
    }

    func testBeforeTheDeadlineATimerIsSet() {
        let started: JSON = ["startTime": .string(WriteRequest.timestamp(now))]
        let plan = JobStatusDecision(job: job(["activeDeadlineSeconds": 30], status: started), pods: [pod("p1", "Running")], now: now, backoffBase: 10).plan()
        XCTAssertEqual(plan.requeueAt, now.addingTimeInterval(30))
        XCTAssertTrue(types(plan).isEmpty)
    }

    func testPodFailurePolicyFailJobAndIgnore() {
        let policy: JSON = ["rules": [["action": "FailJob", "onExitCodes": ["operator": "In", "values": [42]]],
                                      ["action": "Ignore", "onExitCodes": ["operator": "In", "values": [7]]]]]
        let failJob = JobStatusDecision(job: job(["podFailurePolicy": policy]), pods: [pod("p1", "Failed", exit: 42, finished: now)], now: now, backoffBase: 10).plan()
        XCTAssertEqual(types(failJob), ["FailureTarget", "Failed"])
        XCTAssertEqual(failJob.status["conditions"]?.arrayValue?.last?["reason"], "PodFailurePolicy")
        XCTAssertEqual(failJob.status["conditions"]?.arrayValue?.last?["message"],
                       "Container main for pod default/p1 failed with exit code 42 matching FailJob rule at index 0")
        let ignored = JobStatusDecision(job: job(["podFailurePolicy": policy]), pods: [pod("p1", "Failed", exit: 7, finished: now)], now: now, backoffBase: 10).plan()
        XCTAssertNil(ignored.status["failed"], "an ignored failure is not counted")
        XCTAssertTrue(ignored.createPod, "and is replaced without backoff")
    }

    func testSuspendDeletesActivePodsAndResumeRestartsTheClock() {
        let suspended = JobStatusDecision(job: job(["suspend": true]), pods: [pod("p1", "Running")], now: now, backoffBase: 10).plan()
        XCTAssertEqual(suspended.deletePods, ["p1"])
        XCTAssertEqual(types(suspended), ["Suspended"])
        let resumedAt = now.addingTimeInterval(60)
        let resumed = JobStatusDecision(job: job(["suspend": false], status: suspended.status), pods: [], now: resumedAt, backoffBase: 10).plan()
        XCTAssertEqual(resumed.status["conditions"]?.arrayValue?.first?["status"], "False")
        XCTAssertEqual(resumed.status["conditions"]?.arrayValue?.first?["reason"], "JobResumed")
        XCTAssertEqual(resumed.status["startTime"]?.stringValue, WriteRequest.timestamp(resumedAt))
        XCTAssertTrue(resumed.createPod)
    }

    func testTTLAfterFinishedDeletesTheJobWhenDue() {
        let done = JobStatusDecision(job: job(["ttlSecondsAfterFinished": 5]), pods: [pod("p1", "Succeeded")], now: now, backoffBase: 10).plan()
        let waiting = JobStatusDecision(job: job(["ttlSecondsAfterFinished": 5], status: done.status), pods: [], now: now, backoffBase: 10).plan()
        XCTAssertFalse(waiting.deleteJob)
        XCTAssertEqual(waiting.requeueAt, now.addingTimeInterval(5))
        let due = JobStatusDecision(job: job(["ttlSecondsAfterFinished": 5], status: done.status), pods: [], now: now.addingTimeInterval(5), backoffBase: 10).plan()
        XCTAssertTrue(due.deleteJob)
    }
}
