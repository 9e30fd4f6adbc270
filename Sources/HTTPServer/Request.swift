import Foundation

/// One HTTP request as the server read it: the body is complete when the handler sees it.
public struct Request: Sendable, Hashable {
    public var method: String
    /// The path without the query string, percent-decoded by the server.
    public var path: String
    /// Query arguments, decoded; a repeated name keeps its last value.
    public var query: [String: String]
    /// Header names are lowercased, so `headers["content-type"]` finds `Content-Type`; a repeated header
    /// holds its values joined by ", ".
    public var headers: [String: String]
    public var body: Data

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: Data = Data()) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}
