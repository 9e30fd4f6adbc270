import Foundation
import Model

/// A container's state as the node tracks it.
enum ContainerState: Sendable, Equatable {
    case waiting(reason: String, message: String?)
    case running(startedAt: Date)
    case terminated(exitCode: Int, reason: String, message: String?, startedAt: Date, finishedAt: Date)

    var isTerminated: Bool { if case .terminated = self { return true } else { return false } }
    var isRunning: Bool { if case .running = self { return true } else { return false } }
    var exitCode: Int? { if case .terminated(let code, _, _, _, _) = self { return code } else { return nil } }

    var json: JSON {
        switch self {
        case .waiting(let reason, let message):
            var waiting: JSONObject = ["reason": .string(reason)]
            if let message { waiting["message"] = .string(message) }
            return ["waiting": .object(waiting)]
        case .running(let startedAt):
            return ["running": ["startedAt": .string(WriteRequest.timestamp(startedAt))]]
        case .terminated(let exitCode, let reason, let message, let startedAt, let finishedAt):
            var terminated: JSONObject = ["exitCode": .int(exitCode), "reason": .string(reason)]
            if let message, !message.isEmpty { terminated["message"] = .string(message) }
            terminated["startedAt"] = .string(WriteRequest.timestamp(startedAt))
            terminated["finishedAt"] = .string(WriteRequest.timestamp(finishedAt))
            return ["terminated": .object(terminated)]
        }
    }
}

/// One container of a running Pod.
struct ContainerRecord: Sendable, Equatable {
    var name: String
    var image: String
    var state: ContainerState = .waiting(reason: "ContainerCreating", message: nil)
    var lastState: ContainerState?
    var restartCount = 0
    var pid: Int32?
}

/// Everything the node knows of one Pod's run.
struct PodRun: Sendable, Equatable {
    var initContainers: [ContainerRecord]
    var containers: [ContainerRecord]
    var startTime: Date
    /// The run is over: nothing runs or will restart.
    var finished = false
    /// The Pod as a whole failed (NodeLost, a command or volume that cannot be set up).
    var reason: String?
    var message: String?
}

/// The Pod status the kubelet writes, computed from the run alone (pure).
enum PodStatusBuilder {
    static func phase(_ run: PodRun, restartPolicy: String) -> String {
        if run.reason != nil { return "Failed" }
        if run.finished {
            let initFailed = run.initContainers.contains { ($0.state.exitCode ?? 0) != 0 || !$0.state.isTerminated }
            if initFailed { return "Failed" }
            return run.containers.allSatisfy { $0.state.exitCode == 0 } ? "Succeeded" : "Failed"
        }
        let initialized = run.initContainers.allSatisfy { $0.state.exitCode == 0 }
        if initialized, run.containers.contains(where: { $0.state.isRunning || $0.restartCount > 0 || $0.state.isTerminated }) { return "Running" }
        return "Pending"
    }

    static func status(_ run: PodRun, restartPolicy: String, previous: JSON?, now: Date) -> JSON {
        let phase = phase(run, restartPolicy: restartPolicy)
        let stamp = WriteRequest.timestamp(now)
        let previousConditions = previous?["conditions"]?.arrayValue ?? []
        func condition(_ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) -> JSON {
            let status = value ? "True" : "False"
            let earlier = previousConditions.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == status }
            var object: JSONObject = ["type": .string(type), "status": .string(status), "lastProbeTime": .null,
                                      "lastTransitionTime": earlier?["lastTransitionTime"] ?? .string(stamp)]
            if let reason { object["reason"] = .string(reason) }
            if let message { object["message"] = .string(message) }
            return .object(object)
        }
        let terminal = phase == "Succeeded" || phase == "Failed"
        let incompleteInit = run.initContainers.filter { $0.state.exitCode != 0 }.map(\.name)
        let unready = run.containers.filter { !$0.state.isRunning }.map(\.name)
        let initialized = incompleteInit.isEmpty
        let ready = !terminal && unready.isEmpty && !run.containers.isEmpty
        let notReadyReason = terminal ? "PodCompleted" : "ContainersNotReady"
        let notReadyMessage = terminal ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
        let conditions: [JSON] = [
            condition("PodReadyToStartContainers", !terminal || run.finished),
            initialized ? condition("Initialized", true, reason: terminal && run.initContainers.isEmpty == false ? "PodCompleted" : nil)
                        : condition("Initialized", false, reason: "ContainersNotInitialized", message: "containers with incomplete status: [\(incompleteInit.joined(separator: " "))]"),
            ready ? condition("Ready", true) : condition("Ready", false, reason: notReadyReason, message: notReadyMessage),
            ready ? condition("ContainersReady", true) : condition("ContainersReady", false, reason: notReadyReason, message: notReadyMessage),
            condition("PodScheduled", true),
        ]
        var status: JSONObject = ["phase": .string(phase), "conditions": .array(conditions)]
        if let reason = run.reason { status["reason"] = .string(reason) }
        if let message = run.message { status["message"] = .string(message) }
        status["hostIP"] = "127.0.0.1"
        status["hostIPs"] = [["ip": "127.0.0.1"]]
        status["podIP"] = "127.0.0.1"
        status["podIPs"] = [["ip": "127.0.0.1"]]
        status["startTime"] = .string(WriteRequest.timestamp(run.startTime))
        if !run.initContainers.isEmpty { status["initContainerStatuses"] = .array(run.initContainers.map { containerStatus($0, ready: false) }) }
        status["containerStatuses"] = .array(run.containers.map { containerStatus($0, ready: $0.state.isRunning && !terminal) })
        status["qosClass"] = previous?["qosClass"] ?? "BestEffort"
        return .object(status)
    }

    private static func containerStatus(_ record: ContainerRecord, ready: Bool) -> JSON {
        var status: JSONObject = ["name": .string(record.name), "state": record.state.json,
                                  "lastState": record.lastState?.json ?? .object([:]), "ready": .bool(ready),
                                  "restartCount": .int(record.restartCount), "image": .string(record.image), "imageID": ""]
        if let pid = record.pid { status["containerID"] = .string("tenantry-host://\(pid)") }
        status["started"] = .bool(record.state.isRunning)
        return .object(status)
    }

    /// A Pod the node cannot vouch for after a restart of the cluster: its processes died with it.
    static func nodeLost(_ pod: JSON, now: Date) -> JSON {
        var status = pod["status"] ?? [:]
        let stamp = WriteRequest.timestamp(now)
        let lost: JSON = ["terminated": ["exitCode": 137, "reason": "ContainerStatusUnknown",
                                         "message": "The container could not be located when the pod was terminated",
                                         "startedAt": pod.value(at: ["status", "startTime"]) ?? .string(stamp), "finishedAt": .string(stamp)]]
        for list in ["initContainerStatuses", "containerStatuses"] {
            guard let statuses = status[list]?.arrayValue else { continue }
            status.setValue(.array(statuses.map { container in
                var container = container
                if container.value(at: ["state", "terminated"]) == nil {
                    container.setValue(lost, at: ["state"])
                    container.setValue(.bool(false), at: ["ready"])
                    container.setValue(.bool(false), at: ["started"])
                }
                return container
            }), at: [list])
        }
        status.setValue("Failed", at: ["phase"])
        status.setValue("NodeLost", at: ["reason"])
        status.setValue("the local cluster restarted while this Pod was running, and its processes ended with it", at: ["message"])
        let conditions = (status["conditions"]?.arrayValue ?? []).map { condition -> JSON in
            guard ["Ready", "ContainersReady"].contains(condition["type"]?.stringValue) else { return condition }
            var changed = condition
            changed.setValue("False", at: ["status"])
            changed.setValue("PodCompleted", at: ["reason"])
            changed.setValue(.string(stamp), at: ["lastTransitionTime"])
            return changed
        } + [["type": "DisruptionTarget", "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(stamp),
              "reason": "TerminationByKubelet", "message": "the local cluster restarted while the Pod ran"]]
        status.setValue(.array(conditions), at: ["conditions"])
        return status
    }
}
