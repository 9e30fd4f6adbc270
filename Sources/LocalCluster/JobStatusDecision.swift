import Foundation
import Model

/// What the job controller knows of one of a Job's Pods.
struct JobPod: Sendable, Equatable {
    var name: String
    var namespace: String
    var phase: String
    var deleting: Bool
    /// Still carries `batch.kubernetes.io/job-tracking`: not yet counted in the Job's status.
    var tracked: Bool
    var finishedAt: Date?
    var ready: Bool
    var restarts: Int
    /// Terminated containers' exit codes, by container name.
    var exitCodes: [(container: String, code: Int)]
    /// Pod condition types whose status is True.
    var trueConditions: [String]

    var terminal: Bool { phase == "Succeeded" || phase == "Failed" }

    static func == (a: JobPod, b: JobPod) -> Bool {
        a.name == b.name && a.phase == b.phase && a.deleting == b.deleting && a.tracked == b.tracked
            && a.restarts == b.restarts && a.exitCodes.map(\.code) == b.exitCodes.map(\.code)
    }
}

/// What the job controller does for one Job, decided from its spec, status and Pods alone.
struct JobPlan: Sendable {
    var status: JSON
    var createPod = false
    var deletePods: [String] = []
    /// Terminal Pods now counted: their tracking finalizer goes in the same write as the status.
    var release: [String] = []
    var deleteJob = false
    var requeueAt: Date?
}

/// The Job status as kube-controller-manager 1.31 computes it, for parallelism 1 and completions 1
/// (a NonIndexed Job running one Pod at a time). Pure: no store, no clock but `now`.
struct JobStatusDecision {
    static let trackingFinalizer = "batch.kubernetes.io/job-tracking"

    var job: JSON
    var pods: [JobPod]
    var now: Date
    /// Delay before a Pod replaces a failed one: base × 2^(failures−1), at most 6 minutes (Kubernetes: 10 s).
    var backoffBase: TimeInterval

    func plan() -> JobPlan {
        let spec = job["spec"] ?? [:]
        var status = job["status"]?.objectValue.map(JSON.object) ?? .object([:])
        var conditions = status["conditions"]?.arrayValue ?? []
        let stamp = WriteRequest.timestamp(now)
        var plan = JobPlan(status: .null)

        // Count terminal Pods once, as their tracking finalizer comes off.
        var succeeded = status["succeeded"].flatMap(Self.int) ?? 0
        var failed = status["failed"].flatMap(Self.int) ?? 0
        var policyFailure: (reason: String, message: String)?
        for pod in pods where pod.tracked && pod.terminal {
            plan.release.append(pod.name)
            if pod.phase == "Succeeded" { succeeded += 1; continue }
            switch Self.podFailurePolicyAction(spec["podFailurePolicy"], pod) {
            case .ignore: continue
            case .failJob(let message):
                failed += 1
                if policyFailure == nil { policyFailure = ("PodFailurePolicy", message) }
            case .count: failed += 1
            }
        }
        let active = pods.filter { !$0.terminal && !$0.deleting }
        let terminating = pods.filter { !$0.terminal && $0.deleting }
        let finished = Self.isTrue(conditions, "Complete") || Self.isTrue(conditions, "Failed")

        func set(_ key: String, _ value: Int) { status.setValue(value > 0 ? .int(value) : nil, at: [key]) }
        if finished {
            set("succeeded", succeeded); set("failed", failed); set("active", 0)
            status.setValue(terminating.isEmpty ? nil : .int(terminating.count), at: ["terminating"])
            status.setValue(.int(0), at: ["ready"])
            plan.deletePods = active.map(\.name)
            if case .int(let ttl)? = spec["ttlSecondsAfterFinished"],
               let finishedAt = conditions.first(where: { ["Complete", "Failed"].contains($0["type"]?.stringValue) })?["lastTransitionTime"]?.stringValue
                .flatMap(Self.date) {
                let due = finishedAt.addingTimeInterval(TimeInterval(ttl))
                if now >= due { plan.deleteJob = true } else { plan.requeueAt = due }
            }
            plan.status = status
            return plan
        }

        let suspended = spec["suspend"] == .bool(true)
        var startTime = status["startTime"]?.stringValue.flatMap(Self.date)
        if Self.isTrue(conditions, "Suspended"), !suspended {
            Self.setCondition(&conditions, type: "Suspended", status: "False", reason: "JobResumed", message: "Job resumed", now: stamp)
            startTime = now
            status.setValue(.string(stamp), at: ["startTime"])
        }
        if startTime == nil, !suspended {
            startTime = now
            status.setValue(.string(stamp), at: ["startTime"])
        }

        let restarts = active.reduce(0) { $0 + $1.restarts } + terminating.reduce(0) { $0 + $1.restarts }
        let backoffLimit = spec["backoffLimit"].flatMap(Self.int) ?? 6
        let completions = spec["completions"].flatMap(Self.int) ?? 1
        if !Self.isTrue(conditions, "FailureTarget"), !Self.isTrue(conditions, "SuccessCriteriaMet") {
            if let policyFailure {
                Self.setCondition(&conditions, type: "FailureTarget", status: "True", reason: policyFailure.reason, message: policyFailure.message, now: stamp)
            } else if failed + restarts > backoffLimit {
                Self.setCondition(&conditions, type: "FailureTarget", status: "True", reason: "BackoffLimitExceeded",
                                  message: "Job has reached the specified backoff limit", now: stamp)
            } else if succeeded >= completions {
                Self.setCondition(&conditions, type: "SuccessCriteriaMet", status: "True", reason: "CompletionsReached",
                                  message: "Reached expected number of succeeded pods", now: stamp)
            } else if !suspended, case .int(let deadline)? = spec["activeDeadlineSeconds"], let startTime {
                let due = startTime.addingTimeInterval(TimeInterval(deadline))
                if now >= due {
                    Self.setCondition(&conditions, type: "FailureTarget", status: "True", reason: "DeadlineExceeded",
                                      message: "Job was active longer than specified deadline", now: stamp)
                } else {
                    plan.requeueAt = due
                }
            }
        }

        var activeCount = active.count
        if let target = conditions.first(where: { $0["type"]?.stringValue == "FailureTarget" && $0["status"]?.stringValue == "True" }) {
            plan.deletePods = active.map(\.name)
            activeCount = 0
            if active.isEmpty, terminating.isEmpty {
                Self.setCondition(&conditions, type: "Failed", status: "True", reason: target["reason"]?.stringValue ?? "",
                                  message: target["message"]?.stringValue ?? "", now: stamp)
                plan.requeueAt = nil
            }
        } else if Self.isTrue(conditions, "SuccessCriteriaMet") {
            plan.deletePods = active.map(\.name)
            activeCount = 0
            if active.isEmpty, terminating.isEmpty {
                Self.setCondition(&conditions, type: "Complete", status: "True", reason: "CompletionsReached",
                                  message: "Reached expected number of succeeded pods", now: stamp)
                status.setValue(.string(stamp), at: ["completionTime"])
                plan.requeueAt = nil
            }
        } else if suspended {
            plan.deletePods = active.map(\.name)
            activeCount = 0
            if !Self.isTrue(conditions, "Suspended") {
                Self.setCondition(&conditions, type: "Suspended", status: "True", reason: "JobSuspended", message: "Job suspended", now: stamp)
            }
        } else if active.isEmpty, terminating.isEmpty, job.value(at: ["metadata", "deletionTimestamp"]) == nil {
            let failures = failed + restarts
            let lastFailure = pods.filter { $0.phase == "Failed" }.compactMap(\.finishedAt).max()
            if failures > 0, let lastFailure, backoffBase > 0 {
                let delay = min(backoffBase * pow(2, Double(failures - 1)), 360)
                let due = lastFailure.addingTimeInterval(delay)
                if now < due {
                    plan.requeueAt = min(plan.requeueAt ?? due, due)
                } else {
                    plan.createPod = true
                }
            } else {
                plan.createPod = true
            }
            if plan.createPod { activeCount = 1 }
        }

        set("succeeded", succeeded); set("failed", failed); set("active", activeCount)
        status.setValue(terminating.isEmpty ? nil : .int(terminating.count), at: ["terminating"])
        status.setValue(.int(active.filter(\.ready).count), at: ["ready"])
        status.setValue(conditions.isEmpty ? nil : .array(conditions), at: ["conditions"])
        if status["uncountedTerminatedPods"] == nil { status.setValue(.object([:]), at: ["uncountedTerminatedPods"]) }
        plan.status = status
        return plan
    }

    // MARK: - podFailurePolicy

    enum PolicyAction: Equatable {
        case count, ignore
        case failJob(String)
    }

    /// The first rule of `podFailurePolicy` that matches a failed Pod (onExitCodes and onPodConditions).
    static func podFailurePolicyAction(_ policy: JSON?, _ pod: JobPod) -> PolicyAction {
        for (index, rule) in (policy?["rules"]?.arrayValue ?? []).enumerated() {
            var matched: String?
            if let onExitCodes = rule["onExitCodes"] {
                let container = onExitCodes["containerName"]?.stringValue
                let values = Set((onExitCodes["values"]?.arrayValue ?? []).compactMap(int))
                let notIn = onExitCodes["operator"]?.stringValue == "NotIn"
                for (name, code) in pod.exitCodes where code != 0 && (container == nil || container == name) {
                    if values.contains(code) != notIn {
                        matched = "Container \(name) for pod \(pod.namespace)/\(pod.name) failed with exit code \(code) matching \(rule["action"]?.stringValue ?? "") rule at index \(index)"
                        break
                    }
                }
            } else if let patterns = rule["onPodConditions"]?.arrayValue {
                for pattern in patterns {
                    if let type = pattern["type"]?.stringValue, pod.trueConditions.contains(type), (pattern["status"]?.stringValue ?? "True") == "True" {
                        matched = "Pod \(pod.namespace)/\(pod.name) has condition \(type) matching \(rule["action"]?.stringValue ?? "") rule at index \(index)"
                        break
                    }
                }
            }
            guard let message = matched else { continue }
            switch rule["action"]?.stringValue {
            case "FailJob": return .failJob(message)
            case "Ignore": return .ignore
            default: return .count
            }
        }
        return .count
    }

    // MARK: - Helpers

    static func isTrue(_ conditions: [JSON], _ type: String) -> Bool {
        conditions.contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
    }

    static func setCondition(_ conditions: inout [JSON], type: String, status: String, reason: String, message: String, now: String) {
        let condition: JSON = ["type": .string(type), "status": .string(status), "lastProbeTime": .string(now),
                               "lastTransitionTime": .string(now), "reason": .string(reason), "message": .string(message)]
        if let index = conditions.firstIndex(where: { $0["type"]?.stringValue == type }) {
            conditions[index] = condition
        } else {
            conditions.append(condition)
        }
    }

    static func int(_ value: JSON) -> Int? {
        if case .int(let number) = value { return number }
        return nil
    }

    /// An RFC 3339 time, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        fractional.date(from: text) ?? whole.date(from: text)
    }

    // ISO8601DateFormatter is thread-safe, and costly to make.
    nonisolated(unsafe) private static let fractional: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
    nonisolated(unsafe) private static let whole = ISO8601DateFormatter()
}
