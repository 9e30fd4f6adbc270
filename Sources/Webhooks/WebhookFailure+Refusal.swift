import Foundation
import HTTPServer
import Model
import Support

extension WebhookFailure {
    /// A new trace id: 16 hex digits, in the body and the `X-Trace-Id` header of every answer.
    static func newTraceID() -> String { Crypto.hex((0..<8).map { _ in UInt8.random(in: 0...255) }) }

    /// The answer to a refusal the HTTP server makes itself (caps, deadlines, sizes): the contract's error body
    /// with a trace id of its own, logged like any other refusal (ids and outcome only).
    static func answer(to refusal: HTTPServer.Refusal, log: DeliveryLog.Sink) -> Response {
        let failure: WebhookFailure
        switch refusal {
        case .tooManyConnections, .stopping: failure = WebhookFailure(503, .unavailable, refusal.message, retryAfter: 1)
        case .headersTooLarge: failure = WebhookFailure(431, .headersTooLarge, refusal.message)
        case .headersTimeout, .bodyTimeout: failure = WebhookFailure(408, .requestTimeout, refusal.message)
        case .payloadTooLarge: failure = WebhookFailure(413, .payloadTooLarge, refusal.message)
        }
        let traceID = newTraceID()
        log(.warning, "webhook trace=\(traceID) refused by the HTTP server: \(failure.status) \(failure.code.rawValue)")
        var headers = ["Content-Type": "application/json", "X-Trace-Id": traceID]
        if let seconds = failure.retryAfter { headers["Retry-After"] = String(seconds) }
        return Response(status: failure.status, headers: headers, body: Data(failure.body(traceID: traceID).compactBytes))
    }
}
