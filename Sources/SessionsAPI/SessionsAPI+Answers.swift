import Access
import Audit
import Foundation
import HTTPServer
import Model

/// The answers every endpoint shares: the contract's error body `{error, message, details, traceId}`, JSON with
/// `X-Trace-Id` and `Cache-Control: no-store`, and refusals recorded in the audit trail before they are sent.
extension SessionsAPI {
    /// A refusal, recorded before it is answered (a trail that cannot be written turns it into a 503).
    func recorded(_ failure: AccessFailure, namespace: String, session: String = "", actor: String, action: String, resource: String,
                  _ traceID: String) -> Response {
        do {
            try audit.append(AuditRecord(namespace: namespace, session: session, actor: actor, action: action, resource: resource, outcome: "denied",
                                         details: ["message": .string(failure.message), "status": .int(failure.status)], traceID: traceID))
        } catch {
            return unavailable("the audit trail cannot be written: \(error)", traceID)
        }
        return answer(failure, traceID)
    }

    func unavailable(_ message: String, _ traceID: String) -> Response {
        answer(AccessFailure(status: 503, error: "unavailable", message: message, details: [:], headers: ["Retry-After": "1"]), traceID)
    }

    func invalid(_ field: String, _ message: String, _ traceID: String) -> Response {
        answer(AccessFailure(status: 400, error: "invalid_request", message: message, details: ["fields": .strings([field])], headers: [:]), traceID)
    }

    func methodNotAllowed(_ request: Request, allow: [String], _ traceID: String) -> Response {
        let methods = allow.joined(separator: ", ")
        var response = answer(AccessFailure(status: 405, error: "method_not_allowed", message: "\(request.method.prefix(16)) is not served on \(request.path); use \(methods)",
                                            details: [:], headers: [:]), traceID)
        response.headers["Allow"] = methods
        return response
    }

    func answer(_ failure: AccessFailure, _ traceID: String) -> Response {
        var response = json(failure.status, failure.body(traceID: traceID), traceID)
        for (name, value) in failure.headers { response.headers[name] = value }
        return response
    }

    func json(_ status: Int, _ body: JSON, _ traceID: String) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json", "X-Trace-Id": traceID, "Cache-Control": "no-store"], body: Data(body.compactBytes))
    }
}

/// An answer that ends an endpoint early (a refusal, a 404, a 503), as the failure of a step's `Result`.
struct Answered: Error {
    let response: Response
}

extension Result where Failure == Answered {
    static func failure(_ response: Response) -> Self { .failure(Answered(response: response)) }
}
