import Foundation
import Support
import Model

/// One status condition, per the Kubernetes API conventions: `lastTransitionTime` moves only when `status` changes.
public struct Condition: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable { case `true` = "True", `false` = "False", unknown = "Unknown" }

    public var type: String
    public var status: Status
    /// CamelCase, machine-readable; `message` is for people.
    public var reason: String
    public var message: String
    public var lastTransitionTime: Date
    public var observedGeneration: Int

    public init(type: String, status: Status, reason: String, message: String, lastTransitionTime: Date, observedGeneration: Int) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    /// The condition types a Session carries, in the order they are written.
    public static let policyValidated = "PolicyValidated"
    public static let approved = "Approved"
    public static let workloadCreated = "WorkloadCreated"
    public static let running = "Running"
    public static let succeeded = "Succeeded"
    public static let order = [policyValidated, approved, workloadCreated, running, succeeded]

    public var json: JSON {
        ["type": .string(type), "status": .string(status.rawValue), "reason": .string(reason), "message": .string(message),
         "lastTransitionTime": .string(Timestamp.rfc3339(lastTransitionTime)), "observedGeneration": .int(observedGeneration)]
    }

    public init?(json: JSON) {
        guard let type = json["type"]?.stringValue, let status = json["status"]?.stringValue.flatMap(Status.init(rawValue:)),
              let time = json["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        self.init(type: type, status: status, reason: json["reason"]?.stringValue ?? "", message: json["message"]?.stringValue ?? "",
                  lastTransitionTime: time, observedGeneration: json["observedGeneration"]?.intValue ?? 0)
    }
}

extension [Condition] {
    public subscript(type: String) -> Condition? { first { $0.type == type } }

    /// Sets a condition; its transition time stays as it was unless the status changes. Returns whether the status changed.
    /// `order`: the types in the order they are kept (a Session's by default).
    @discardableResult
    public mutating func set(_ type: String, _ status: Condition.Status, reason: String, message: String, now: Date, generation: Int,
                             order: [String] = Condition.order) -> Bool {
        if let index = firstIndex(where: { $0.type == type }) {
            let changed = self[index].status != status
            self[index].status = status
            self[index].reason = reason
            self[index].message = message
            self[index].observedGeneration = generation
            if changed { self[index].lastTransitionTime = now }
            return changed
        }
        append(Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: now, observedGeneration: generation))
        sort { (order.firstIndex(of: $0.type) ?? Int.max) < (order.firstIndex(of: $1.type) ?? Int.max) }
        return true
    }
}

extension JSON {
    var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .number(let text): return Double(text).map { Int($0) }
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}
