import Model

/// What happened to one object. The words are the ones printed, logged and committed.
public enum Action: String, Sendable, Hashable, CaseIterable {
    case created, configured, unchanged, deleted, skipped, failed
}

/// One object and what the engine did to it.
public struct Change: Sendable, Hashable, CustomStringConvertible {
    public var object: ObjectReference
    public var action: Action
    /// Why it failed or was skipped, or what drifted; empty otherwise.
    public var message: String

    public init(object: ObjectReference, action: Action, message: String = "") {
        self.object = object
        self.action = action
        self.message = message
    }

    /// `Kind/namespace/name action`: the stdout line, the log line and the status-report line.
    public var description: String { "\(object) \(action.rawValue)" }
}

/// The engine's one currency: every object touched (or not) by an apply, diff or prune, in order.
public struct ChangeSet: Sendable, Hashable {
    public var changes: [Change]

    public init(_ changes: [Change] = []) { self.changes = changes }

    public mutating func append(_ change: Change) { changes.append(change) }
    public mutating func append(contentsOf other: ChangeSet) { changes.append(contentsOf: other.changes) }

    public var failures: [Change] { changes.filter { $0.action == .failed } }
    public var hasFailures: Bool { changes.contains { $0.action == .failed } }

    /// Created, configured or deleted: something changed in the cluster.
    public var hasChanges: Bool { changes.contains { [.created, .configured, .deleted].contains($0.action) } }

    public func count(_ action: Action) -> Int { changes.filter { $0.action == action }.count }

    /// `3 created, 1 configured, 40 unchanged`, leaving out zeros.
    public var summary: String {
        let parts = Action.allCases.compactMap { action -> String? in
            let n = count(action)
            return n == 0 ? nil : "\(n) \(action.rawValue)"
        }
        return parts.isEmpty ? "no objects" : parts.joined(separator: ", ")
    }
}
