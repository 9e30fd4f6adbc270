import Foundation
import Model

/// Why a Sessions API call stops before its handler, in the contract's error shape
/// (`{error, message, details, traceId}`, specs/contracts/sessions.yaml).
public struct AccessFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public let status: Int
    /// The contract's `error` code: unauthenticated, invalid_token, invalid_namespace, forbidden, unavailable.
    public let error: String
    public let message: String
    public let details: JSONObject
    /// `WWW-Authenticate` for a 401; `Retry-After` seconds for a 503.
    public let headers: [String: String]

    public init(status: Int, error: String, message: String, details: JSONObject = [:], headers: [String: String] = [:]) {
        self.status = status
        self.error = error
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { message }

    public func body(traceID: String) -> JSON {
        ["error": .string(error), "message": .string(message), "details": .object(details), "traceId": .string(traceID)]
    }
}

/// What every Sessions API endpoint does first: authenticate the `Authorization` header, check the
/// namespace name, then ask RBAC about the action — in that order, so that a 403 for another tenant's
/// namespace is the same whether or not it exists, and nothing about a namespace is looked up for a
/// caller who may not see it. The endpoint audits what the gate decided (denials included).
public final class AccessGate: Sendable {
    public let authenticator: Authenticator
    public let reviewer: AccessReviewer

    public init(authenticator: Authenticator, reviewer: AccessReviewer) {
        self.authenticator = authenticator
        self.reviewer = reviewer
    }

    public func caller(authorization: String?, now: Date = Date()) -> Result<Caller, AccessFailure> {
        do {
            return .success(try authenticator.authenticate(authorization: authorization, now: now))
        } catch {
            return .failure(AccessFailure(status: 401, error: error.code.rawValue, message: error.message, details: [:],
                                          headers: ["WWW-Authenticate": error.challenge]))
        }
    }

    /// The caller, allowed to do `action` in `namespace` (to `session` when named), or the answer to send.
    public func admit(authorization: String?, _ action: SessionAction, namespace: String, session: String = "",
                      now: Date = Date()) -> Result<Caller, AccessFailure> {
        caller(authorization: authorization, now: now).flatMap { caller in
            authorize(caller, action, namespace: namespace, session: session, now: now).map { caller }
        }
    }

    /// For a caller already authenticated (whose name the endpoint records when it is refused).
    public func authorize(_ caller: Caller, _ action: SessionAction, namespace: String, session: String = "",
                          now: Date = Date()) -> Result<Void, AccessFailure> {
        guard NamespaceName.isValid(namespace) else {
            return .failure(AccessFailure(status: 400, error: "invalid_namespace",
                                          message: "\"\(namespace.prefix(80))\" is not a namespace name: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit",
                                          details: ["fields": ["namespace"]]))
        }
        let request = AccessRequest(action, namespace: namespace, session: session)
        do {
            let decision = try reviewer.authorize(caller, request, now: now)
            guard decision.allowed else {
                return .failure(AccessFailure(status: 403, error: "forbidden", message: request.forbiddenMessage(user: caller.user),
                                              details: ["verb": .string(request.verb), "resource": .string(request.subresource.isEmpty ? "sessions" : "sessions/\(request.subresource)"),
                                                        "namespace": .string(namespace)]))
            }
            return .success(())
        } catch {
            return .failure(AccessFailure(status: 503, error: "unavailable", message: error.message, headers: ["Retry-After": "1"]))
        }
    }
}
