import Foundation
import Model

/// One admission decision of a webhook delivery, for whoever records them (serve injects the audit trail):
/// admitted (`failure` nil) or refused, with the rule (`details.rule`) or the limit that refused it.
public struct AdmissionDecisionRecord: Sendable, Hashable {
    public var source: WebhookSource
    public var event: String
    public var deliveryID: String
    public var namespace: String
    public var session: String
    /// The trigger rule that matched the delivery.
    public var rule: String
    public var traceID: String
    public var failure: WebhookFailure?

    public var admitted: Bool { failure == nil }

    /// The refusing policy rule (`models`, `tools`, `maxConcurrentSessions`, `budget`) or error code (`rate_limit_exceeded`).
    public var refusingRule: String? {
        guard let failure else { return nil }
        return failure.details["rule"]?.stringValue ?? failure.code.rawValue
    }
}

/// Told each decision before the delivery is answered; a throw makes the answer a 503.
public typealias AdmissionDecided = @Sendable (AdmissionDecisionRecord) throws -> Void
