import Foundation
import HTTPServer
import Model

/// The Sessions API called in process with the user's bearer token: the UI never decides who may do what, the
/// API's authentication, SubjectAccessReview and audit trail do, exactly as for curl.
struct APIClient: Sendable {
    let handle: @Sendable (Request) -> Response?

    struct Answer: Sendable {
        var status: Int
        var response: Response
        /// The JSON body, when it is JSON.
        var json: JSON?

        var error: String? { json?["error"]?.stringValue }
        var message: String { json?["message"]?.stringValue ?? "the Sessions API answered \(status)" }
        /// The fields a 400 names (`details.fields`).
        var fields: [String] { json?["details"]?["fields"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    }

    func call(_ method: String = "GET", _ path: String, query: [String: String] = [:], token: String, body: JSON? = nil,
              headers extra: [String: String] = [:], traceID: String) -> Answer {
        var headers = extra
        headers["authorization"] = "Bearer \(token)"
        headers["x-request-id"] = traceID
        if body != nil { headers["content-type"] = "application/json" }
        let request = Request(method: method, path: path, query: query, headers: headers, body: body.map { Data($0.compactBytes) } ?? Data())
        guard let response = handle(request) else {
            let missing: JSON = ["error": "not_found", "message": .string("this server does not serve \(method) \(path) yet"), "details": [:], "traceId": .string(traceID)]
            return Answer(status: 404, response: Response(status: 404), json: missing)
        }
        var json: JSON?
        if case .bytes(let data) = response.body, (response.header("content-type") ?? "").hasPrefix("application/json") {
            json = try? JSON(parsing: data)
        }
        return Answer(status: response.status, response: response, json: json)
    }
}

extension Response {
    /// A header by name, whatever the case it was set in.
    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name }?.value
    }
}
