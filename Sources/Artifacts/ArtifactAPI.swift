import Foundation
import HTTPServer
import Model

/// The artifact routes of the Sessions API, as a handler over any `ArtifactStore`:
/// - `PUT  /api/v1/namespaces/{ns}/sessions/{id}/artifacts/{name}`: a runner uploads, with its ServiceAccount token;
///   allowed only to `system:serviceaccount:{ns}:session-runner` from the Pod running that Session.
/// - `GET  /api/v1/namespaces/{ns}/sessions/{id}/artifacts`: the list, for whoever may read the Session.
/// - `GET  /api/v1/namespaces/{ns}/sessions/{id}/artifacts/{name}`: the bytes, with `Range` support.
/// Who the caller is and what they may do come from the closures (TokenReview, SubjectAccessReview and the
/// controller's cache once those exist); failures are Kubernetes `Status` bodies.
public struct ArtifactAPI: Sendable {
    /// What a TokenReview says of a bearer token.
    public struct Caller: Sendable, Hashable {
        public var username: String
        public var groups: [String]
        /// `authentication.kubernetes.io/pod-name` of a projected ServiceAccount token.
        public var podName: String?
        public init(username: String, groups: [String] = [], podName: String? = nil) {
            self.username = username
            self.groups = groups
            self.podName = podName
        }
    }

    public enum SessionLookup: Sendable, Hashable {
        case notFound
        /// The Session exists; the Pod that runs it now, if any (`status.workload.podName`).
        case found(podName: String?)
    }

    public let store: any ArtifactStore
    public let authenticate: @Sendable (_ bearerToken: String) -> Caller?
    public let session: @Sendable (_ namespace: String, _ name: String) -> SessionLookup
    /// Whether a person may read the Session's artifacts (`get` on `sessions` in the namespace).
    public let mayRead: @Sendable (_ caller: Caller, _ namespace: String) -> Bool

    public init(store: any ArtifactStore, authenticate: @escaping @Sendable (String) -> Caller?,
                session: @escaping @Sendable (String, String) -> SessionLookup,
                mayRead: @escaping @Sendable (Caller, String) -> Bool) {
        self.store = store
        self.authenticate = authenticate
        self.session = session
        self.mayRead = mayRead
    }

    /// The answer, or nil when the path is not an artifact route (another handler's).
    public func handle(_ request: Request) -> Response? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // "", api, v1, namespaces, {ns}, sessions, {id}, artifacts[, {name}]
        guard parts.count == 8 || parts.count == 9, parts[0].isEmpty, parts[1] == "api", parts[2] == "v1", parts[3] == "namespaces",
              parts[5] == "sessions", parts[7] == "artifacts" else { return nil }
        let namespace = parts[4], name = parts[6]
        let artifact = parts.count == 9 ? parts[8] : nil
        guard let header = request.headers["authorization"], header.hasPrefix("Bearer "),
              let caller = authenticate(String(header.dropFirst("Bearer ".count))) else {
            return status(401, "Unauthorized", "Unauthorized")
        }
        let pod: String?
        switch session(namespace, name) {
        case .notFound: return status(404, "NotFound", "sessions.ambient.ai \"\(name)\" not found", name: name)
        case .found(let podName): pod = podName
        }
        switch (request.method, artifact) {
        case ("PUT", let artifact?):
            let runner = "system:serviceaccount:\(namespace):session-runner"
            guard caller.username == runner, let podName = caller.podName, podName == pod else {
                return status(403, "Forbidden", "\(caller.username) may not upload artifacts of session \(namespace)/\(name): only the "
                              + "session-runner ServiceAccount from the Pod running the session may", name: name)
            }
            return put(namespace, name, artifact, request)
        case ("GET", let artifact):
            guard mayRead(caller, namespace) else {
                return status(403, "Forbidden", "sessions.ambient.ai \"\(name)\" is forbidden: User \"\(caller.username)\" cannot get resource "
                              + "\"sessions\" in API group \"ambient.ai\" in the namespace \"\(namespace)\"", name: name)
            }
            return artifact.map { get(namespace, name, $0, request) } ?? list(namespace, name)
        default:
            return status(405, "MethodNotAllowed", "\(request.method) is not supported here", name: name)
        }
    }

    private func put(_ namespace: String, _ session: String, _ name: String, _ request: Request) -> Response {
        do {
            let key = try ArtifactKey(namespace: namespace, session: session, name: name)
            let info = try store.put(key, bytes: Array(request.body), contentType: request.headers["content-type"] ?? "application/octet-stream")
            return json(201, Self.entry(info))
        } catch {
            return failure(error, name: name)
        }
    }

    private func get(_ namespace: String, _ session: String, _ name: String, _ request: Request) -> Response {
        do {
            return try Self.download(store, try ArtifactKey(namespace: namespace, session: session, name: name), range: request.headers["range"])
        } catch {
            return failure(error, name: name)
        }
    }

    /// The artifact's bytes: 200 whole, or 206 with `Content-Range` for a `Range` header (one range).
    public static func download(_ store: any ArtifactStore, _ key: ArtifactKey, range header: String?) throws(ArtifactError) -> Response {
        let range = try header.map { header throws(ArtifactError) in try ByteRange(header: header) }
        let content = try store.get(key, range: range)
        var headers = ["Content-Type": content.info.contentType, "Accept-Ranges": "bytes"]
        guard let offsets = content.range else { return Response(status: 200, headers: headers, body: Data(content.bytes)) }
        headers["Content-Range"] = "bytes \(offsets.lowerBound)-\(offsets.upperBound)/\(content.info.size)"
        return Response(status: 206, headers: headers, body: Data(content.bytes))
    }

    private func list(_ namespace: String, _ session: String) -> Response {
        do {
            let items = try store.list(namespace: namespace, session: session)
            return json(200, ["artifacts": .array(items.map(Self.entry))])
        } catch {
            return failure(error, name: session)
        }
    }

    /// The contract's Artifact: name, size, content type, when, and where to download it.
    public static func entry(_ info: ArtifactInfo) -> JSON {
        let formatter = ISO8601DateFormatter()
        let base = "/api/v1/namespaces/\(info.key.namespace)/sessions/\(info.key.session)/artifacts/"
        return ["name": .string(info.key.name), "size": .int(info.size), "contentType": .string(info.contentType),
                "createdAt": .string(formatter.string(from: info.createdAt)),
                "downloadUrl": .string(base + (info.key.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? ""))]
    }

    private func failure(_ error: ArtifactError, name: String) -> Response {
        switch error {
        case .invalidName: return status(422, "Invalid", error.description, name: name)
        case .notFound: return status(404, "NotFound", error.description, name: name)
        case .tooLarge: return status(413, "RequestEntityTooLarge", error.description, name: name)
        case .tooMany: return status(403, "Forbidden", error.description, name: name)
        case .invalidRange: return status(400, "BadRequest", error.description, name: name)
        case .rangeNotSatisfiable(_, let size):
            var response = status(416, "RequestedRangeNotSatisfiable", error.description, name: name)
            response.headers["Content-Range"] = "bytes */\(size)"
            return response
        case .storage: return status(500, "InternalError", error.description, name: name)
        }
    }

    private func json(_ code: Int, _ body: JSON) -> Response {
        Response(status: code, headers: ["Content-Type": "application/json"], body: Data(body.compactBytes))
    }

    /// A Kubernetes `Status` failure body.
    private func status(_ code: Int, _ reason: String, _ message: String, name: String? = nil) -> Response {
        var body: JSONObject = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                "message": .string(message), "reason": .string(reason)]
        if let name { body["details"] = ["name": .string(name), "group": "ambient.ai", "kind": "sessions"] }
        body["code"] = .int(code)
        return json(code, .object(body))
    }
}
