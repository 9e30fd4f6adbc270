/// A Kubernetes `Status` (`kind: Status`, `status: Failure`): what went wrong, as the API server says it. The
/// one type for both sides: the local cluster answers with it, the client decodes it and prints it as kubectl.
public struct KubeStatus: Error, Sendable, Hashable {
    /// One reason the request failed, on one field when `field` is set (`details.causes`).
    public struct Cause: Sendable, Hashable {
        public var reason, message, field: String

        public init(reason: String, message: String, field: String = "") {
            (self.reason, self.message, self.field) = (reason, message, field)
        }
    }

    /// The HTTP status code (`code` in the body).
    public var code: Int
    /// The machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Expired`, …
    public var reason: String
    public var message: String
    /// `details` as the server gave them (`name`, `group`, `kind`, …), causes and retryAfterSeconds apart.
    public var details: JSONObject?
    public var causes: [Cause]
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String, message: String, details: JSONObject? = nil, causes: [Cause] = [], retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// `details.kind` and `details.name` as the server gave them.
    public var kind: String { details?["kind"]?.stringValue ?? "" }
    public var name: String { details?["name"]?.stringValue ?? "" }

    /// Decodes a Status body; anything else (an HTML error page, a proxy's text) keeps its first line.
    public init(code: Int, body: [UInt8]) {
        let json = try? JSON(parsing: String(decoding: body, as: UTF8.self))
        if let json, json["kind"]?.stringValue == "Status" {
            var details = json["details"]?.objectValue
            let causes = (details?["causes"]?.arrayValue ?? []).map {
                Cause(reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "", field: $0["field"]?.stringValue ?? "")
            }
            var retry: Int?
            if case .int(let seconds)? = details?["retryAfterSeconds"] { retry = seconds }
            details?["causes"] = nil
            details?["retryAfterSeconds"] = nil
            self.init(code: code, reason: json["reason"]?.stringValue ?? "", message: json["message"]?.stringValue ?? "",
                      details: details, causes: causes, retryAfterSeconds: retry)
        } else {
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            self.init(code: code, reason: "", message: text.split(separator: "\n").first.map(String.init) ?? "HTTP \(code)")
        }
        if reason.isEmpty { reason = Self.defaultReason(code) }
    }

    /// The Status body the API server sends (`kind`, `apiVersion`, `metadata`, `status`, `message`, `reason`,
    /// `details`, `code`).
    public var json: JSON {
        var details = self.details ?? JSONObject()
        if !causes.isEmpty {
            details["causes"] = .array(causes.map { cause in
                var object: JSONObject = ["reason": .string(cause.reason), "message": .string(cause.message)]
                if !cause.field.isEmpty { object["field"] = .string(cause.field) }
                return .object(object)
            })
        }
        if let retryAfterSeconds { details["retryAfterSeconds"] = .int(retryAfterSeconds) }
        var status: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason),
        ]
        if !details.isEmpty { status["details"] = .object(details) }
        status["code"] = .int(code)
        return .object(status)
    }

    /// The reason kube-apiserver gives a bare HTTP code.
    public static func defaultReason(_ code: Int) -> String {
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
