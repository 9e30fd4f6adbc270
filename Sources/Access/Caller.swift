import Model

/// Who is calling, as the API authenticated them: what a SubjectAccessReview is asked about.
public struct Caller: Sendable, Hashable {
    public enum Method: Sendable, Hashable {
        /// An OIDC ID token from this issuer (people).
        case oidc(issuer: String)
        /// A token the cluster accepted through TokenReview (ServiceAccounts, the local cluster's user tokens).
        case kubernetes
    }

    public var user: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]
    public var method: Method

    public init(user: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:], method: Method) {
        self.user = user
        self.uid = uid
        self.groups = groups
        self.extra = extra
        self.method = method
    }

    /// The `/whoami` body (the contract's Caller schema).
    public var json: JSON {
        var object: JSONObject = ["user": .string(user), "groups": .strings(groups)]
        if !uid.isEmpty { object["uid"] = .string(uid) }
        if !extra.isEmpty { object["extra"] = .object(JSONObject(extra.sorted { $0.key < $1.key }.map { ($0.key, JSON.strings($0.value)) })) }
        switch method {
        case .oidc(let issuer):
            object["authenticatedBy"] = "oidc"
            object["issuer"] = .string(issuer)
        case .kubernetes:
            object["authenticatedBy"] = "kubernetes"
        }
        return .object(object)
    }
}

/// Why a request is answered 401. The message never holds the token; `challenge` is the
/// `WWW-Authenticate` value (RFC 6750 §3).
public struct AuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// No credential at all.
        case unauthenticated
        /// A credential that did not authenticate.
        case invalidToken = "invalid_token"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var challenge: String {
        code == .unauthenticated ? "Bearer realm=\"tenantry\"" : "Bearer realm=\"tenantry\", error=\"invalid_token\""
    }

    public var description: String { message }
}
