import Foundation
import Model

/// A session a person asks the API to start (a create, or a rerun of an earlier one), as handed to the
/// webhooks' admission, which `serve` injects: the same rules decide it as decide a delivery.
public struct SessionAdmission: Sendable, Hashable {
    public var namespace: String
    /// The authenticated caller, recorded on the Session (`ambient.ai/created-by`).
    public var actor: String
    public var trigger: Session.Trigger
    /// The runner framework asked for (must be the namespace's runner); `config.model` and `config.tools` are
    /// admitted against the policy, the policy's defaults when absent.
    public var framework: Session.Framework
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(namespace: String, actor: String, trigger: Session.Trigger, framework: Session.Framework,
                labels: [String: String] = [:], annotations: [String: String] = [:]) {
        self.namespace = namespace
        self.actor = actor
        self.trigger = trigger
        self.framework = framework
        self.labels = labels
        self.annotations = annotations
    }
}

/// What admission decided.
public enum SessionAdmissionAnswer: Sendable, Hashable {
    /// Admitted and durably journaled; `object` is the Session as created (or to be created, when `created` is false
    /// because the cluster did not confirm it in time: the journal creates it later).
    case admitted(name: String, object: JSONObject, created: Bool)
    /// Refused: the status (403 policy_violation with `details.rule`, 429 with `retryAfter`, 404, 503) and the contract's error.
    case refused(status: Int, error: String, message: String, details: JSONObject, retryAfter: Int?)
}

/// The admission `serve` injects (Webhooks' journal and creator).
public typealias SessionAdmitter = @Sendable (SessionAdmission) -> SessionAdmissionAnswer
