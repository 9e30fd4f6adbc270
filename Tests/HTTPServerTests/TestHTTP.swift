import Foundation
import HTTPClient

/// Requests to the server under test through the product's libcurl client (no URLSession). A request that
/// gets no answer comes back as status 0 with the error as text.
enum TestHTTP {
    static func send(_ method: String, _ url: String, body: Data?, contentType: String, token: String?, accept: String? = nil) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType)]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if let accept { headers.append(("Accept", accept)) }
        do {
            return try HTTPClient().send(HTTPRequest(method: method, url: url, headers: headers, body: body.map { Array($0) }, timeout: 60))
        } catch {
            return HTTPResponse(status: 0, headers: [:], body: Array(error.description.utf8))
        }
    }
}
