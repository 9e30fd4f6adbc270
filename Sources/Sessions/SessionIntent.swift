import Foundation
import Support
import Model

/// What a person's approval, rejection or stop writes into a Session's spec (a JSON merge patch), once the Sessions
/// API has authenticated them and a SubjectAccessReview allowed `requiredVerb` on `sessions.ambient.ai`. Users
/// express intent here; only the controller writes status.
public enum SessionIntent {
    /// The verb the SubjectAccessReview must allow: `approve` (the custom verb of `tenantry:approver`), `update` for stop.
    /// Agrees with `Access.SessionAction`: the rendered editor role grants `update` on sessions, the approver role `approve`.
    public static func requiredVerb(approval: Bool) -> String { approval ? "approve" : "update" }

    /// Why the intent is refused, as a Kubernetes Status would say it (409 Conflict: the Session is past it).
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public let code: Int
        public let reason: String
        public let message: String
        public var description: String { message }
    }

    private static func conflict(_ message: String) -> Refusal { Refusal(code: 409, reason: "Conflict", message: message) }

    public static func approval(_ decision: SessionObject.ApprovalDecision.Decision, by actor: String, at time: Date,
                                session: SessionObject, policy: PolicySnapshot?) throws(Refusal) -> JSON {
        let name = "\(session.namespace)/\(session.name)"
        if session.status.isFinal { throw conflict("session \(name) is already \(session.status.phase.rawValue): there is nothing to decide") }
        guard session.constraints.approvalRequired || policy?.approvalRequired == true else {
            throw conflict("session \(name) needs no approval")
        }
        if let existing = session.approval {
            throw conflict("session \(name) was already \(existing.decision.rawValue) by \(existing.by)")
        }
        return ["spec": ["approval": ["decision": .string(decision.rawValue), "by": .string(actor), "at": .string(Timestamp.rfc3339(time))]]]
    }

    /// Stopping twice is the same stop; stopping a finished Session is refused.
    public static func stop(by actor: String, session: SessionObject) throws(Refusal) -> JSON {
        if session.status.isFinal {
            throw conflict("session \(session.namespace)/\(session.name) is already \(session.status.phase.rawValue)")
        }
        return ["spec": ["stop": true, "stoppedBy": .string(session.stop?.by ?? actor)]]
    }
}
