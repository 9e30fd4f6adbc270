import Foundation
import HTTPServer

/// One endpoint of the Sessions API: a method, a path template (`/api/v1/namespaces/{namespace}/sessions/{session}`)
/// and the handler. `SessionsAPI.routes` is the table `handle` matches against: a new endpoint is one more
/// `Route` there (its handler in a file of its own), nothing else.
public struct Route: Sendable {
    public let method: String
    public let template: String
    public let handler: @Sendable (SessionsAPI, APICall) -> Response
    private let segments: [Substring]

    public init(_ method: String, _ template: String, _ handler: @escaping @Sendable (SessionsAPI, APICall) -> Response) {
        self.method = method
        self.template = template
        self.handler = handler
        segments = template.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// The path parameters when `path` fits the template (`{name}` matches one non-empty segment).
    func match(_ parts: [Substring]) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                guard !part.isEmpty else { return nil }
                parameters[String(segment.dropFirst().dropLast())] = String(part)
            } else if segment != part {
                return nil
            }
        }
        return parameters
    }
}

/// A request that matched a route: the request, its path parameters and the trace id every answer carries.
public struct APICall: Sendable {
    public let request: Request
    public let parameters: [String: String]
    public let traceID: String

    public init(request: Request, parameters: [String: String], traceID: String) {
        self.request = request
        self.parameters = parameters
        self.traceID = traceID
    }

    public var namespace: String { parameters["namespace"] ?? "" }
    public var session: String { parameters["session"] ?? "" }
    public var authorization: String? { request.headers["authorization"] }
    public func query(_ name: String) -> String? { request.query[name] }
}
