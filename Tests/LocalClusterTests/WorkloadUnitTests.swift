import Foundation
@testable import LocalCluster
import Model
import XCTest

/// The node's and the garbage collector's pure parts: Pod status, environment, logs, collection decisions.
final class WorkloadUnitTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func testPodPhaseFollowsItsContainers() {
        var run = PodRun(initContainers: [ContainerRecord(name: "setup", image: "x")], containers: [ContainerRecord(name: "main", image: "x")], startTime: start)
        XCTAssertEqual(PodStatusBuilder.phase(run, restartPolicy: "Never"), "Pending")
        run.initContainers[0].state = .terminated(exitCode: 0, reason: "Completed", message: nil, startedAt: start, finishedAt: start)
        run.containers[0].state = .running(startedAt: start)
        XCTAssertEqual(PodStatusBuilder.phase(run, restartPolicy: "Never"), "Running")
        let status = PodStatusBuilder.status(run, restartPolicy: "Never", previous: nil, now: start)
        let conditions = status["conditions"]?.arrayValue ?? []
        XCTAssertEqual(conditions.map { $0["type"]?.stringValue ?? "" }, ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"])
        XCTAssertEqual(conditions.first { $0["type"] == "Ready" }?["status"], "True")
        run.containers[0].state = .terminated(exitCode: 2, reason: "Error", message: "bad input", startedAt: start, finishedAt: start)
        run.finished = true
        let failed = PodStatusBuilder.status(run, restartPolicy: "Never", previous: status, now: start.addingTimeInterval(1))
        XCTAssertEqual(failed["phase"], "Failed")
        XCTAssertEqual(failed["containerStatuses"]?.arrayValue?.first?.at("state", "terminated", "exitCode"), 2)
        XCTAssertEqual(failed["containerStatuses"]?.arrayValue?.first?.at("state", "terminated", "message"), "bad input")
        XCTAssertEqual(failed["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["reason"], "PodCompleted")
        run.containers[0].state = .terminated(exitCode: 0, reason: "Completed", message: nil, startedAt: start, finishedAt: start)
        XCTAssertEqual(PodStatusBuilder.phase(run, restartPolicy: "Never"), "Succeeded")
    }

    func testAContainerThatNeverStartedFailsThePod() {
        var run = PodRun(initContainers: [], containers: [ContainerRecord(name: "main", image: "busybox")], startTime: start)
        run.containers[0].state = .waiting(reason: "ErrImagePull", message: "set command")
        run.finished = true
        XCTAssertEqual(PodStatusBuilder.phase(run, restartPolicy: "Never"), "Failed")
    }

    func testNodeLostMarksRunningContainersUnknown() {
        let pod: JSON = ["metadata": ["name": "p"], "status": ["phase": "Running", "startTime": "2026-01-01T00:00:00Z",
                         "containerStatuses": [["name": "main", "state": ["running": ["startedAt": "2026-01-01T00:00:00Z"]]]]]]
        let status = PodStatusBuilder.nodeLost(pod, now: start)
        XCTAssertEqual(status["phase"], "Failed")
        XCTAssertEqual(status["reason"], "NodeLost")
        XCTAssertEqual(status["containerStatuses"]?.arrayValue?.first?.at("state", "terminated", "reason"), "ContainerStatusUnknown")
    }

    func testEnvironmentResolvesValuesReferencesAndFields() throws {
        let pod: JSON = ["metadata": ["name": "p1", "namespace": "team", "uid": "u", "labels": ["app": "demo"], "annotations": ["note": "n"]],
                         "spec": ["serviceAccountName": "runner"]]
        let container: JSON = ["env": [
            ["name": "GREETING", "value": "hello"],
            ["name": "MESSAGE", "value": "$(GREETING) world, $$(GREETING) stays, $(MISSING) too"],
            ["name": "PASSWORD", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "password"]]],
            ["name": "MODE", "valueFrom": ["configMapKeyRef": ["name": "settings", "key": "mode"]]],
            ["name": "POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
            ["name": "NS", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]],
            ["name": "APP", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['app']"]]],
            ["name": "NOTE", "valueFrom": ["fieldRef": ["fieldPath": "metadata.annotations['note']"]]],
            ["name": "SA", "valueFrom": ["fieldRef": ["fieldPath": "spec.serviceAccountName"]]],
        ]]
        let variables = try PodEnvironment.variables(container: container, pod: pod, base: [("PATH", "/bin")]) { kind, name in
            switch (kind, name) {
            case ("Secret", "creds"): ["password": "s3cret"]
            case ("ConfigMap", "settings"): ["mode": "fast"]
            default: nil
            }
        }
        let values = Dictionary(variables, uniquingKeysWith: { $1 })
        XCTAssertEqual(values["MESSAGE"], "hello world, $(GREETING) stays, $(MISSING) too")
        XCTAssertEqual(values["PASSWORD"], "s3cret")
        XCTAssertEqual(values["MODE"], "fast")
        XCTAssertEqual([values["POD"], values["NS"], values["APP"], values["NOTE"], values["SA"]], ["p1", "team", "demo", "n", "runner"])
        XCTAssertThrowsError(try PodEnvironment.variables(container: ["env": [["name": "X", "valueFrom": ["secretKeyRef": ["name": "absent", "key": "k"]]]]],
                                                          pod: pod, base: []) { _, _ in nil }) { error in
            XCTAssertEqual("\(error)", "secret \"absent\" not found")
        }
    }

    func testNoCommandMeansNoCommandLine() {
        XCTAssertNil(PodEnvironment.commandLine(["image": "busybox", "args": ["echo", "hi"]], [:]))
        XCTAssertEqual(PodEnvironment.commandLine(["command": ["echo"], "args": ["$(WHO)"]], ["WHO": "me"]), ["echo", "me"])
    }

    func testLogQueryTailsSinceAndTimestamps() {
        let text = """
            2026-01-01T00:00:01.000000000Z stdout F one
            2026-01-01T00:00:02.000000000Z stderr F two
            2026-01-01T00:00:03.000000000Z stdout P thr
            2026-01-01T00:00:03.100000000Z stdout F ee

            """
        XCTAssertEqual(String(decoding: LogQuery().render(text[...]), as: UTF8.self), "one\ntwo\nthree\n")
        XCTAssertEqual(String(decoding: LogQuery(tailLines: 2).render(text[...]), as: UTF8.self), "three\n")
        XCTAssertEqual(String(decoding: LogQuery(since: JobStatusDecision.date("2026-01-01T00:00:02Z")).render(text[...]), as: UTF8.self), "two\nthree\n")
        XCTAssertEqual(String(decoding: LogQuery(tailLines: 1, timestamps: true).render(text[...]), as: UTF8.self), "2026-01-01T00:00:03.100000000Z ee\n")
    }

    func testGarbageCollectionDecisions() {
        XCTAssertEqual(GarbageCollector.decide([("a", .dangling)], hasDependents: false), .delete(.background))
        XCTAssertEqual(GarbageCollector.decide([("a", .waitingForDependents)], hasDependents: true), .delete(.foreground))
        XCTAssertEqual(GarbageCollector.decide([("a", .waitingForDependents)], hasDependents: false), .delete(.background))
        XCTAssertEqual(GarbageCollector.decide([("a", .solid), ("b", .dangling)], hasDependents: false), .removeReferences(dangling: ["b"], unblock: []))
        XCTAssertEqual(GarbageCollector.decide([("a", .solid)], hasDependents: false), .keep)
        XCTAssertEqual(GarbageCollector.decide([("a", .unresolvable)], hasDependents: false), .keep)
    }

    func testDeleteOptionsPickTheFinalizer() throws {
        XCTAssertEqual(try DeleteOptions(body: ["propagationPolicy": "Foreground"], query: [:]).finalizer(for: .pods), "foregroundDeletion")
        XCTAssertEqual(try DeleteOptions(body: nil, query: ["propagationPolicy": "Orphan"]).finalizer(for: .pods), "orphan")
        XCTAssertNil(try DeleteOptions(body: nil, query: [:]).finalizer(for: .pods))
        XCTAssertEqual(try DeleteOptions(body: nil, query: [:]).finalizer(for: .jobs), "orphan", "batch/v1 Jobs orphan by default")
        XCTAssertEqual(try DeleteOptions(body: ["orphanDependents": false], query: [:]).finalizer(for: .jobs), nil)
        XCTAssertThrowsError(try DeleteOptions(body: ["propagationPolicy": "Sideways"], query: [:]))
    }
}
