import Foundation
import HTTPServer

extension APIError {
    /// The Status for a refusal the HTTP server makes before the API server sees the request.
    static func answer(to refusal: HTTPServer.Refusal) -> Response {
        let error: APIError
        switch refusal {
        case .tooManyConnections, .stopping:
            error = APIError(code: 503, reason: "ServiceUnavailable", message: refusal.message, retryAfterSeconds: 1)
        case .headersTooLarge:
            error = APIError(code: 431, reason: "RequestHeaderFieldsTooLarge", message: refusal.message)
        case .headersTimeout, .bodyTimeout:
            error = APIError(code: 408, reason: "Timeout", message: refusal.message)
        case .payloadTooLarge(let limit):
            error = APIError(code: 413, reason: "RequestEntityTooLarge",
                             message: "the request body is larger than the limit of \(limit) bytes; split the object or store large data elsewhere")
        }
        var headers = ["Content-Type": "application/json"]
        if let seconds = error.retryAfterSeconds { headers["Retry-After"] = String(seconds) }
        return Response(status: error.code, headers: headers, body: Data(error.status.compactText.utf8))
    }
}
