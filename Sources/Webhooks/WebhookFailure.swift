import Foundation
import Model

/// A refusal, as the contract's error body `{error, message, details, traceId}` and an HTTP status.
/// Messages never hold a secret, an API key or the payload.
public struct WebhookFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case missingAPIKey = "missing_api_key"
        case invalidPayload = "invalid_payload"
        case invalidAPIKey = "invalid_api_key"
        case invalidSignature = "invalid_signature"
        case staleRequest = "stale_request"
        case routingConflict = "routing_conflict"
        case policyViolation = "policy_violation"
        case rateLimitExceeded = "rate_limit_exceeded"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case payloadTooLarge = "payload_too_large"
        case headersTooLarge = "headers_too_large"
        case requestTimeout = "request_timeout"
        case notReady = "not_ready"
        case unavailable = "unavailable"
    }

    public let status: Int
    public let code: Code
    public let message: String
    public var details: JSONObject
    /// Seconds, for 429 and 503.
    public var retryAfter: Int?

    public init(_ status: Int, _ code: Code, _ message: String, details: JSONObject = [:], retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(code.rawValue): \(message)" }

    func body(traceID: String) -> JSON {
        ["error": .string(code.rawValue), "message": .string(message), "details": .object(details), "traceId": .string(traceID)]
    }

    static func policy(_ message: String, rule: String, details: JSONObject = [:]) -> WebhookFailure {
        var details = details
        details["rule"] = .string(rule)
        return WebhookFailure(403, .policyViolation, message, details: details)
    }
}
