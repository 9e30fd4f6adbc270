import Foundation
import Support
import Model

/// A Session's `status`, which the controller alone writes.
public struct SessionStatus: Sendable, Hashable {
    public var phase: Session.Phase
    /// Why the session is where it is: `UserRequested`, `Timeout`, `PolicyViolation`, … (empty while all is well).
    public var reason: String
    public var message: String
    public var conditions: [Condition]
    public var history: [HistoryEntry]
    /// How many of the oldest history entries were moved to artifact storage (never edited, only moved).
    public var archivedHistory: Int
    public var workload: Workload
    public var startTime: Date?
    public var completionTime: Date?
    public var cost: Cost
    public var artifacts: [GeneratedArtifact]
    /// The runner's one-line account of what it did, from its termination message.
    public var summary: String?
    public var observedGeneration: Int

    public init(phase: Session.Phase = .pending, reason: String = "", message: String = "", conditions: [Condition] = [],
                history: [HistoryEntry] = [], archivedHistory: Int = 0, workload: Workload = Workload(), startTime: Date? = nil,
                completionTime: Date? = nil, cost: Cost = Cost(), artifacts: [GeneratedArtifact] = [], summary: String? = nil,
                observedGeneration: Int = 0) {
        self.phase = phase
        self.reason = reason
        self.message = message
        self.conditions = conditions
        self.history = history
        self.archivedHistory = archivedHistory
        self.workload = workload
        self.startTime = startTime
        self.completionTime = completionTime
        self.cost = cost
        self.artifacts = artifacts
        self.summary = summary
        self.observedGeneration = observedGeneration
    }

    public struct Workload: Sendable, Hashable {
        public var jobName: String?
        public var podName: String?
        public init(jobName: String? = nil, podName: String? = nil) {
            self.jobName = jobName
            self.podName = podName
        }
    }

    public struct Cost: Sendable, Hashable {
        public var estimated: Amount?
        public var actual: Amount?
        public var currency: String?
        public init(estimated: Amount? = nil, actual: Amount? = nil, currency: String? = nil) {
            self.estimated = estimated
            self.actual = actual
            self.currency = currency
        }
    }

    public struct GeneratedArtifact: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable { case log, output, intermediate, error }
        public var type: Kind
        public var location: String
        public var createdAt: Date
        public init(type: Kind, location: String, createdAt: Date) {
            self.type = type
            self.location = location
            self.createdAt = createdAt
        }
    }

    public var isFinal: Bool { [.completed, .failed, .stopped].contains(phase) }

    // MARK: JSON

    /// The status as written through `/status`, with the field names of the Session CRD.
    public var json: JSON {
        var object: JSONObject = ["phase": .string(phase.rawValue)]
        if !reason.isEmpty { object["reason"] = .string(reason) }
        if !message.isEmpty { object["message"] = .string(message) }
        object["observedGeneration"] = .int(observedGeneration)
        object["conditions"] = .array(conditions.map(\.json))
        object["history"] = .array(history.map(\.json))
        if archivedHistory > 0 { object["archivedHistory"] = .int(archivedHistory) }
        var workload = JSONObject()
        if let job = self.workload.jobName { workload["jobName"] = .string(job) }
        if let pod = self.workload.podName { workload["podName"] = .string(pod) }
        object["workload"] = .object(workload)
        if let startTime { object["startTime"] = .string(Timestamp.rfc3339(startTime)) }
        if let completionTime { object["completionTime"] = .string(Timestamp.rfc3339(completionTime)) }
        var cost = JSONObject()
        if let estimated = self.cost.estimated { cost["estimated"] = .string(estimated.description) }
        if let actual = self.cost.actual { cost["actual"] = .string(actual.description) }
        if let currency = self.cost.currency { cost["currency"] = .string(currency) }
        if !cost.isEmpty { object["cost"] = .object(cost) }
        if !artifacts.isEmpty {
            object["artifacts"] = ["generated": .array(artifacts.map {
                ["type": .string($0.type.rawValue), "location": .string($0.location), "createdAt": .string(Timestamp.rfc3339($0.createdAt))]
            })]
        }
        if let summary { object["summary"] = .string(summary) }
        return .object(object)
    }

    /// Reads a status back from the cluster; what is missing or malformed takes its empty value (a new Session has no status).
    public init(json: JSON?) {
        self.init()
        guard let json, case .object = json else { return }
        phase = json["phase"]?.stringValue.flatMap(Session.Phase.init(rawValue:)) ?? .pending
        reason = json["reason"]?.stringValue ?? ""
        message = json["message"]?.stringValue ?? ""
        observedGeneration = json["observedGeneration"]?.intValue ?? 0
        conditions = json["conditions"]?.arrayValue?.compactMap(Condition.init(json:)) ?? []
        history = json["history"]?.arrayValue?.compactMap(HistoryEntry.init(json:)) ?? []
        archivedHistory = json["archivedHistory"]?.intValue ?? 0
        workload = Workload(jobName: json["workload"]?["jobName"]?.stringValue, podName: json["workload"]?["podName"]?.stringValue)
        startTime = json["startTime"]?.stringValue.flatMap(Timestamp.parse)
        completionTime = json["completionTime"]?.stringValue.flatMap(Timestamp.parse)
        cost = Cost(estimated: json["cost"]?["estimated"]?.stringValue.flatMap(Amount.init),
                    actual: json["cost"]?["actual"]?.stringValue.flatMap(Amount.init),
                    currency: json["cost"]?["currency"]?.stringValue)
        artifacts = json["artifacts"]?["generated"]?.arrayValue?.compactMap { item in
            guard let type = item["type"]?.stringValue.flatMap(GeneratedArtifact.Kind.init(rawValue:)),
                  let location = item["location"]?.stringValue else { return nil }
            return GeneratedArtifact(type: type, location: location,
                                     createdAt: item["createdAt"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0))
        } ?? []
        summary = json["summary"]?.stringValue
    }
}

/// One entry of the append-only history: what happened, when, who did it, with details.
public struct HistoryEntry: Sendable, Hashable {
    public var timestamp: Date
    public var event: String
    public var actor: String
    public var data: JSONObject

    public init(timestamp: Date, event: String, actor: String = HistoryEntry.controller, data: JSONObject = [:]) {
        self.timestamp = timestamp
        self.event = event
        self.actor = actor
        self.data = data
    }

    /// The actor of what the controller did on its own.
    public static let controller = "tenantry-controller"

    public var json: JSON {
        ["timestamp": .string(Timestamp.rfc3339(timestamp)), "event": .string(event), "actor": .string(actor), "data": .object(data)]
    }

    init?(json: JSON) {
        guard let time = json["timestamp"]?.stringValue.flatMap(Timestamp.parse), let event = json["event"]?.stringValue else { return nil }
        self.init(timestamp: time, event: event, actor: json["actor"]?.stringValue ?? "", data: json["data"]?.objectValue ?? [:])
    }
}

/// The history's bound: the CRD allows 1,000 entries, so past that the oldest move to artifact storage.
public enum HistoryArchive {
    public static let limit = 1000
    /// Archive down to this many, so that an archive is written once per 100 new entries rather than on each one.
    public static let keep = 900

    /// Appends `entries`; when the history would pass `limit`, returns the oldest entries to archive (in order) and
    /// keeps the newest `keep`.
    static func append(_ entries: [HistoryEntry], to status: inout SessionStatus) -> [HistoryEntry] {
        status.history += entries
        guard status.history.count > limit else { return [] }
        let moved = Array(status.history.prefix(status.history.count - keep))
        status.history.removeFirst(moved.count)
        status.archivedHistory += moved.count
        return moved
    }

    /// The artifact name an archive is stored under: the range of entry numbers it holds (1-based, zero-padded so names sort).
    public static func artifactName(firstEntry: Int, count: Int) -> String {
        func padded(_ n: Int) -> String { let text = String(n); return String(repeating: "0", count: max(0, 7 - text.count)) + text }
        return "history-\(padded(firstEntry))-\(padded(firstEntry + count - 1)).json"
    }
}
