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
}
