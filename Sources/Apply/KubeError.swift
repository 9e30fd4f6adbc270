import HTTPClient
import Model

/// A Kubernetes `Status` answer: what the server said went wrong.
public struct KubeStatus: Sendable, Hashable {
    public struct Cause: Sendable, Hashable {
        public var reason: String
        public var message: String
        public var field: String
    }

    public var code: Int
    public var reason: String
    public var message: String
    /// `details.kind` and `details.name` as the server gave them.
    public var kind: String
    public var name: String
    public var causes: [Cause]

    public init(code: Int, reason: String, message: String, kind: String = "", name: String = "", causes: [Cause] = []) {
        self.code = code
        self.reason = reason
        self.message = message
        self.kind = kind
        self.name = name
        self.causes = causes
    }

    /// Decodes a Status body; anything else (an HTML error page, a proxy's text) keeps its first line.
    public init(code: Int, body: [UInt8]) {
        let json = try? JSON(parsing: String(decoding: body, as: UTF8.self))
        if let json, json["kind"]?.stringValue == "Status" {
            self.code = code
            reason = json["reason"]?.stringValue ?? ""
            message = json["message"]?.stringValue ?? ""
            kind = json["details"]?["kind"]?.stringValue ?? ""
            name = json["details"]?["name"]?.stringValue ?? ""
            causes = (json["details"]?["causes"]?.arrayValue ?? []).map {
                Cause(reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "", field: $0["field"]?.stringValue ?? "")
            }
        } else {
            self.code = code
            reason = KubeStatus.defaultReason(code)
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            message = text.split(separator: "\n").first.map(String.init) ?? "HTTP \(code)"
            kind = ""
            name = ""
            causes = []
        }
        if reason.isEmpty { reason = KubeStatus.defaultReason(code) }
    }

    static func defaultReason(_ code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return "Unknown"
        }
    }

    /// A server-side apply conflict with another field manager.
    public var isFieldManagerConflict: Bool {
        code == 409 && (causes.contains { $0.reason == "FieldManagerConflict" } || message.hasPrefix("Apply failed with"))
    }

    /// The other managers an apply conflicted with, from the causes (`conflict with "kubectl" …`).
    public var conflictingManagers: [String] {
        var managers: [String] = []
        for text in causes.map(\.message) + message.split(separator: "\n").map(String.init) {
            guard let start = text.range(of: "conflict with \"") else { continue }
            let rest = text[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { continue }
            let manager = String(rest[..<end])
            if !managers.contains(manager) { managers.append(manager) }
        }
        return managers
    }

    /// kubectl's wording: `Error from server (Reason): message`, `The Kind "name" is invalid:` with
    /// `* field: message` lines, and for conflicts the ways to resolve them.
    public func rendered(object: ObjectReference?) -> String {
        if code == 422 || reason == "Invalid" {
            let kindName = object?.kind ?? kind
            let header = "The \(kindName) \"\(object?.name ?? name)\" is invalid: "
            var seen = Set<String>()
            let lines = causes.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }.filter { seen.insert($0).inserted }
            if lines.isEmpty { return header + message }
            if lines.count == 1 { return header + lines[0] }
            return header + "\n" + lines.map { "* " + $0 }.joined(separator: "\n")
        }
        if isFieldManagerConflict {
            return "Error from server (Conflict): " + message + """

                Other field managers own these fields: \(conflictingManagers.joined(separator: ", ")). To resolve:
                * take the fields over: re-run with --force-conflicts (Tenantry becomes their manager);
                * or remove the fields from the tenant repo so the other manager keeps them;
                * or ask the other manager to stop managing them (kubectl apply --server-side with the field removed).
                """
        }
        return "Error from server (\(reason)): \(message)"
    }
}

/// Why a request to the API server failed.
public enum KubeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered with a Status (after retries for 429 and 5xx).
    case status(KubeStatus, object: ObjectReference?, step: String)
    /// No answer: connection refused, TLS, timeout, DNS.
    case transport(HTTPClientError, server: String, step: String)
    /// The server does not serve this apiVersion and kind, even after discovery was refreshed.
    case unknownKind(apiVersion: String, kind: String, server: String)
    /// The answer was not what the API promises.
    case malformed(step: String, message: String)

    public var status: KubeStatus? {
        if case .status(let status, _, _) = self { return status }
        return nil
    }

    public var isNotFound: Bool { status?.code == 404 }

    public var isConflict: Bool { status?.isFieldManagerConflict ?? false }

    public var description: String {
        switch self {
        case .status(let status, let object, let step):
            let prefix = object.map { "\($0) \(step) failed: " } ?? (step.isEmpty ? "" : "\(step) failed: ")
            return prefix + status.rendered(object: object)
        case .transport(let error, let server, let step):
            let advice: String
            switch error.kind {
            case .connect: advice = "The connection to the server \(server) was refused - did you specify the right host or port?"
            case .timeout: advice = "The server \(server) did not answer in time; check that it is up and reachable, then retry."
            case .tls: advice = "TLS with \(server) failed; check the kubeconfig's certificate-authority and client certificate."
            case .resolve: advice = "The server name in \(server) does not resolve; check the kubeconfig's server URL."
            case .other: advice = "The request to \(server) failed."
            }
            return "\(step) failed: \(advice) (\(error.message))"
        case .unknownKind(let apiVersion, let kind, let server):
            return "the server \(server) does not serve \(kind) in \(apiVersion); is its CustomResourceDefinition installed? (`kubectl api-resources` lists what it serves)"
        case .malformed(let step, let message):
            return "\(step) failed: the server's answer could not be read: \(message)"
        }
    }
}
