import Foundation
import Model

/// What happened to one Session create.
public enum CreateOutcome: Sendable, Hashable {
    case created
    /// A Session of that name was there already: an earlier attempt (or a replay) made it. Done either way.
    case alreadyExists
}

/// Why a Session write failed, and whether trying again can help.
public struct SessionWriteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Connection refused, timeout, 429, 5xx, or a namespace that may appear with the next reconcile.
    public let retryable: Bool
    public let status: Int?
    public let message: String

    public init(retryable: Bool, status: Int?, message: String) {
        self.retryable = retryable
        self.status = status
        self.message = message
    }

    public var description: String { status.map { "HTTP \($0): \(message)" } ?? message }
}

/// The seam between the webhook service and the Kubernetes API: create Sessions and list those not yet in a
/// final phase (for the concurrency limit). It never writes a Session's status: the session controller is its
/// one writer (an approval-required Session gets `Approved=False, AwaitingApproval` from the controller).
public protocol SessionWriter: Sendable {
    func create(_ object: JSONObject) throws(SessionWriteError) -> CreateOutcome
    /// Names of the namespace's Sessions whose phase is not Completed, Failed or Stopped.
    func liveSessions(namespace: String) throws(SessionWriteError) -> [String]
}

extension Session.Phase {
    /// Completed, Failed and Stopped: a session in one of these no longer counts toward concurrency.
    public var isFinal: Bool { self == .completed || self == .failed || self == .stopped }
}
