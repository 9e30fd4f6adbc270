import Foundation
import Support
import Model

/// A Kubernetes Event the controller records on a Session at a transition (`kubectl describe session`,
/// `kubectl events --for session/NAME`).
public struct SessionEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case normal = "Normal", warning = "Warning" }
    public var type: Kind
    public var reason: String
    public var message: String

    public init(_ type: Kind, _ reason: String, _ message: String) {
        self.type = type
        self.reason = reason
        self.message = message
    }

    public static let component = "tenantry-controller"

    /// The `v1` Event object, named as client-go's recorder names them (`<object>.<hex nanoseconds>`).
    public func object(for session: SessionObject, now: Date) -> JSONObject {
        let nanos = UInt64(max(0, now.timeIntervalSince1970) * 1_000_000_000)
        let time = JSON.string(Timestamp.rfc3339(now))
        return [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(session.name).\(String(nanos, radix: 16))"), "namespace": .string(session.namespace)],
            "involvedObject": ["apiVersion": .string(Session.apiVersion), "kind": .string(Session.kind), "name": .string(session.name),
                               "namespace": .string(session.namespace), "uid": .string(session.uid)],
            "reason": .string(reason), "message": .string(message), "type": .string(type.rawValue),
            "source": ["component": .string(SessionEvent.component)],
            "firstTimestamp": time, "lastTimestamp": time, "count": 1,
        ]
    }
}
