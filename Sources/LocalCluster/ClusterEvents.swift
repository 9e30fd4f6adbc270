import Foundation
import Model

/// core/v1 Events the in-process controllers record, as kube-controller-manager and the kubelet do.
enum ClusterEvents {
    static func record(_ transaction: StoreTransaction, regarding object: JSON, type: ResourceType, eventType: String, reason: String,
                       message: String, component: String) throws {
        let now = ControllerLoop.now
        let namespace = object.namespace.isEmpty ? "default" : object.namespace
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var involved: JSONObject = ["apiVersion": .string(type.apiVersion), "kind": .string(type.kind), "name": .string(object.name)]
        if !object.namespace.isEmpty { involved["namespace"] = .string(object.namespace) }
        involved["uid"] = object.value(at: ["metadata", "uid"]) ?? ""
        if let version = object.resourceVersion { involved["resourceVersion"] = .string(version) }
        var event: JSON = ["apiVersion": "v1", "kind": "Event",
                           "metadata": ["name": .string("\(object.name).\(suffix)"), "namespace": .string(namespace),
                                        "uid": .string(UUID().uuidString.lowercased()), "creationTimestamp": .string(now)],
                           "involvedObject": .object(involved), "reason": .string(reason), "message": .string(message),
                           "source": ["component": .string(component)], "firstTimestamp": .string(now), "lastTimestamp": .string(now),
                           "count": 1, "type": .string(eventType), "eventTime": .null, "reportingComponent": .string(component),
                           "reportingInstance": ""]
        event.setValue(.string(String(try transaction.nextResourceVersion())), at: ["metadata", "resourceVersion"])
        try transaction.put(.events, event, previous: nil)
    }

    /// Records an Event as client-go's event recorder does for a controller that keeps failing: the same message again
    /// counts on its Event (`count` + 1, `lastTimestamp` now); after `similarLimit` Events of the object with the same
    /// type, reason and component but other messages (a refused Pod has a new generated name each time), one Event
    /// "(combined from similar events): …" carries the latest message and counts the rest. Events of an object are
    /// named `NAME.<suffix>`, so only those are read. Returns how many times this was recorded in all (for a backoff).
    @discardableResult
    static func recordRepeated(_ transaction: StoreTransaction, regarding object: JSON, type: ResourceType, eventType: String, reason: String,
                               message: String, component: String) throws -> Int {
        let namespace = object.namespace.isEmpty ? "default" : object.namespace
        let uid = object.value(at: ["metadata", "uid"]) ?? ""
        var similar: [JSON] = []
        var after = ObjectKey(namespace: namespace, name: object.name + ".")
        while true {
            let page = try transaction.list(.events, namespace: namespace, after: after, limit: 100)
            let mine = page.prefix { $0.name.hasPrefix(object.name + ".") }
            similar += mine.filter { event in
                event.value(at: ["involvedObject", "uid"]) == uid && event["reason"]?.stringValue == reason && event["type"]?.stringValue == eventType
                    && event.value(at: ["source", "component"])?.stringValue == component
            }
            guard mine.count == 100, let last = mine.last else { break }
            after = ObjectKey(namespace: namespace, name: last.name)
        }
        let total = similar.reduce(0) { $0 + ($1["count"]?.intValue ?? 1) } + 1
        let combined = "(combined from similar events): "
        let repeated = similar.first { $0["message"]?.stringValue == message }
            ?? (similar.count >= similarLimit ? similar.first { $0["message"]?.stringValue?.hasPrefix(combined) == true } : nil)
        if let repeated {
            var counted = repeated
            counted.setValue(.int((repeated["count"]?.intValue ?? 1) + 1), at: ["count"])
            counted.setValue(.string(ControllerLoop.now), at: ["lastTimestamp"])
            if repeated["message"]?.stringValue != message { counted.setValue(.string(combined + message), at: ["message"]) }
            counted.setValue(.string(String(try transaction.nextResourceVersion())), at: ["metadata", "resourceVersion"])
            try transaction.put(.events, counted, previous: repeated)
        } else {
            try record(transaction, regarding: object, type: type, eventType: eventType, reason: reason,
                       message: similar.count >= similarLimit ? combined + message : message, component: component)
        }
        return total
    }

    /// client-go's `maxEvents` of similar Events before they are combined.
    static let similarLimit = 10
}
