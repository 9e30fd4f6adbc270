import Foundation
import Support
import Model

/// What the controller's cache holds of a session's Job: only what decides the session's phase.
public struct ObservedJob: Sendable, Hashable {
    public var name: String
    /// The Session's uid in the Job's controller ownerReference (a Job of the same name owned by another is not ours).
    public var ownerUID: String?
    public var active: Int
    public var succeeded: Int
    public var failed: Int
    /// `Complete` / `Failed` conditions with status True, as the job controller sets them.
    public var complete: Bool
    public var failedReason: String?
    public var failedMessage: String?

    public init(name: String, ownerUID: String?, active: Int = 0, succeeded: Int = 0, failed: Int = 0, complete: Bool = false,
                failedReason: String? = nil, failedMessage: String? = nil) {
        self.name = name
        self.ownerUID = ownerUID
        self.active = active
        self.succeeded = succeeded
        self.failed = failed
        self.complete = complete
        self.failedReason = failedReason
        self.failedMessage = failedMessage
    }

    public init(object: JSONObject) {
        let status = object["status"]
        let conditions = status?["conditions"]?.arrayValue ?? []
        func trueCondition(_ type: String) -> JSON? {
            conditions.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
        }
        let owner = object["metadata"]?["ownerReferences"]?.arrayValue?.first { $0["controller"]?.boolValue == true }
        let failed = trueCondition("Failed")
        self.init(name: object["metadata"]?["name"]?.stringValue ?? "", ownerUID: owner?["uid"]?.stringValue,
                  active: status?["active"]?.intValue ?? 0, succeeded: status?["succeeded"]?.intValue ?? 0,
                  failed: status?["failed"]?.intValue ?? 0, complete: trueCondition("Complete") != nil,
                  failedReason: failed.map { $0["reason"]?.stringValue ?? "Failed" }, failedMessage: failed?["message"]?.stringValue)
    }
}

/// The newest Pod of a session's Job, reduced to what tells how the runner is doing.
public struct ObservedPod: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable { case pending = "Pending", running = "Running", succeeded = "Succeeded", failed = "Failed", unknown = "Unknown" }

    public var name: String
    public var phase: Phase
    /// `status.reason` (`Evicted`, `NodeLost`, `DeadlineExceeded`).
    public var reason: String?
    public var message: String?
    public var startTime: Date?
    /// The runner container's waiting reason (`ImagePullBackOff`, `ErrImagePull`, `CrashLoopBackOff`, …) and message.
    public var waitingReason: String?
    public var waitingMessage: String?
    /// The runner container's last termination: reason (`Completed`, `Error`, `OOMKilled`), exit code, message.
    public var terminatedReason: String?
    public var exitCode: Int?
    public var terminationMessage: String?

    public init(name: String, phase: Phase, reason: String? = nil, message: String? = nil, startTime: Date? = nil,
                waitingReason: String? = nil, waitingMessage: String? = nil, terminatedReason: String? = nil,
                exitCode: Int? = nil, terminationMessage: String? = nil) {
        self.name = name
        self.phase = phase
        self.reason = reason
        self.message = message
        self.startTime = startTime
        self.waitingReason = waitingReason
        self.waitingMessage = waitingMessage
        self.terminatedReason = terminatedReason
        self.exitCode = exitCode
        self.terminationMessage = terminationMessage
    }

    /// Reads a Pod; the runner container is the one named `runner`, else the first.
    public init(object: JSONObject) {
        let status = object["status"]
        let containers = status?["containerStatuses"]?.arrayValue ?? []
        let runner = containers.first { $0["name"]?.stringValue == JobBuilder.containerName } ?? containers.first
        let waiting = runner?["state"]?["waiting"]
        let terminated = runner?["state"]?["terminated"] ?? runner?["lastState"]?["terminated"]
        self.init(name: object["metadata"]?["name"]?.stringValue ?? "",
                  phase: status?["phase"]?.stringValue.flatMap(Phase.init(rawValue:)) ?? .pending,
                  reason: status?["reason"]?.stringValue, message: status?["message"]?.stringValue,
                  startTime: status?["startTime"]?.stringValue.flatMap(Timestamp.parse),
                  waitingReason: waiting?["reason"]?.stringValue, waitingMessage: waiting?["message"]?.stringValue,
                  terminatedReason: terminated?["reason"]?.stringValue, exitCode: terminated?["exitCode"]?.intValue,
                  terminationMessage: terminated?["message"]?.stringValue)
    }
}

extension ObservedPod {
    /// The Pod that tells how the session is doing: the newest of the Job's Pods (by creation, then name), since a
    /// retried Job leaves the failed ones behind.
    public static func newest(of pods: [JSONObject]) -> ObservedPod? {
        let created: (JSONObject) -> (Date, String) = { pod in
            (pod["metadata"]?["creationTimestamp"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0),
             pod["metadata"]?["name"]?.stringValue ?? "")
        }
        return pods.max { created($0) < created($1) }.map(ObservedPod.init(object:))
    }
}
