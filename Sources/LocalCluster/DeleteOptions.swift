import Foundation
import HTTPServer
import Model

/// What a DELETE asks for beyond the object: how dependents are treated (`propagationPolicy`, or the
/// older `orphanDependents`) and how long a Pod gets to stop (`gracePeriodSeconds`). Read from the
/// DeleteOptions body kubectl sends, or from the query.
struct DeleteOptions: Sendable, Hashable {
    enum Propagation: String, Sendable {
        case orphan = "Orphan", background = "Background", foreground = "Foreground"
    }

    /// nil: the resource's default (Orphan for batch/v1 Jobs, as Kubernetes keeps for compatibility; Background otherwise).
    var propagation: Propagation?
    var gracePeriodSeconds: Int?

    init(propagation: Propagation? = nil, gracePeriodSeconds: Int? = nil) {
        self.propagation = propagation
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    init(body: JSON?, query: [String: String]) throws(APIError) {
        let policy = body?["propagationPolicy"]?.stringValue ?? query["propagationPolicy"]
        if let policy {
            guard let parsed = Propagation(rawValue: policy) else {
                throw APIError.badRequest("invalid propagationPolicy \"\(policy)\": use Orphan, Background or Foreground")
            }
            propagation = parsed
        } else if let orphan = body?["orphanDependents"] ?? query["orphanDependents"].map(JSON.string) {
            propagation = (orphan == .bool(true) || orphan == .string("true")) ? .orphan : .background
        }
        let grace = body?["gracePeriodSeconds"] ?? query["gracePeriodSeconds"].map(JSON.string)
        switch grace {
        case .int(let seconds)?: gracePeriodSeconds = seconds
        case .string(let text)?:
            guard let seconds = Int(text) else { throw APIError.badRequest("invalid gracePeriodSeconds \"\(text)\": pass a whole number of seconds") }
            gracePeriodSeconds = seconds
        default: gracePeriodSeconds = nil
        }
        if let seconds = gracePeriodSeconds, seconds < 0 { gracePeriodSeconds = 0 }
    }

    /// The finalizer that makes the garbage collector act before the object goes, if any.
    func finalizer(for type: ResourceType) -> String? {
        switch propagation ?? (type == .jobs ? .orphan : .background) {
        case .orphan: GarbageCollector.orphanFinalizer
        case .foreground: GarbageCollector.foregroundFinalizer
        case .background: nil
        }
    }
}

extension ResourceType {
    static let jobs = builtIn.first { $0.group == "batch" && $0.plural == "jobs" }!
    static let nodes = builtIn.first { $0.group.isEmpty && $0.plural == "nodes" }!
    static let events = builtIn.first { $0.group.isEmpty && $0.plural == "events" }!
    static let configMaps = builtIn.first { $0.group.isEmpty && $0.plural == "configmaps" }!
}

extension JSON {
    /// A Pod being deleted whose processes still have time to stop: the store keeps it until the
    /// node has stopped them and set the grace period to 0.
    var awaitsGracefulTermination: Bool {
        guard isDeleting, case .int(let seconds)? = value(at: ["metadata", "deletionGracePeriodSeconds"]) else { return false }
        return seconds > 0
    }
}
