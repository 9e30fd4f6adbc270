import Foundation
import Model
import Support

// The `auth:` section of tenantry.yaml (read by Support.ConfigDocument), shaped after kube-apiserver's
// AuthenticationConfiguration:
//
//   auth:
//     issuers:
//       - url: https://login.acme.example          # must equal the tokens' iss, exactly
//         audiences: [tenantry]                     # aud must contain one of these
//         algorithms: [RS256, ES256]                # the default; anything else is refused
//         certificateAuthority: /etc/tenantry/idp-ca.pem   # else the system's CAs
//         claimMappings:
//           username: {claim: email, prefix: ""}
//           groups: {claim: groups, prefix: "oidc:"}
//     kubernetes:                                   # TokenReview for machines; `enabled: false` to refuse them
//       audiences: [tenantry]
//       cache: {authenticated: 2m, unauthenticated: 10s, size: 10000}
//     authorization:
//       cache: {allowed: 10s, denied: 10s, size: 100000}

/// How the Sessions API authenticates and caches decisions.
public struct AuthConfiguration: Sendable, Hashable {
    public var issuers: [OIDCIssuerConfiguration] = []
    /// nil: Kubernetes tokens are refused.
    public var kubernetes: KubernetesTokenConfiguration? = KubernetesTokenConfiguration()
    public var authorization = AuthorizationCacheConfiguration()

    public init(issuers: [OIDCIssuerConfiguration] = [], kubernetes: KubernetesTokenConfiguration? = KubernetesTokenConfiguration(),
                authorization: AuthorizationCacheConfiguration = AuthorizationCacheConfiguration()) {
        self.issuers = issuers
        self.kubernetes = kubernetes
        self.authorization = authorization
    }
}

public struct OIDCIssuerConfiguration: Sendable, Hashable {
    /// `https://…`; discovery is `url + /.well-known/openid-configuration`.
    public var url: String
    public var audiences: [String]
    public var algorithms: [JWTAlgorithm] = [.rs256, .es256]
    /// PEM file of the CAs to trust for discovery and JWKS; nil: the system's.
    public var certificateAuthority: String?
    public var username = ClaimMapping(claim: "sub", prefix: "")
    public var groups: ClaimMapping? = nil
    /// Clock skew allowed on exp, nbf and iat.
    public var leeway: TimeInterval = 60

    public init(url: String, audiences: [String], algorithms: [JWTAlgorithm] = [.rs256, .es256], certificateAuthority: String? = nil,
                username: ClaimMapping = ClaimMapping(claim: "sub", prefix: ""), groups: ClaimMapping? = nil, leeway: TimeInterval = 60) {
        self.url = url
        self.audiences = audiences
        self.algorithms = algorithms
        self.certificateAuthority = certificateAuthority
        self.username = username
        self.groups = groups
        self.leeway = leeway
    }
}

/// A claim and the prefix put before its value (kube's claimMappings), so `groups: admins` from an
/// identity provider can be told from a cluster group of that name.
public struct ClaimMapping: Sendable, Hashable {
    public var claim: String
    public var prefix: String

    public init(claim: String, prefix: String) {
        self.claim = claim
        self.prefix = prefix
    }
}

public struct KubernetesTokenConfiguration: Sendable, Hashable {
    /// The audiences asked of TokenReview: a token must be meant for the Sessions API.
    public var audiences: [String] = ["tenantry"]
    public var authenticatedTTL: TimeInterval = 120
    public var unauthenticatedTTL: TimeInterval = 10
    public var cacheSize = 10_000

    public init(audiences: [String] = ["tenantry"], authenticatedTTL: TimeInterval = 120, unauthenticatedTTL: TimeInterval = 10, cacheSize: Int = 10_000) {
        self.audiences = audiences
        self.authenticatedTTL = authenticatedTTL
        self.unauthenticatedTTL = unauthenticatedTTL
        self.cacheSize = cacheSize
    }
}

public struct AuthorizationCacheConfiguration: Sendable, Hashable {
    public var allowedTTL: TimeInterval = 10
    public var deniedTTL: TimeInterval = 10
    public var size = 100_000

    public init(allowedTTL: TimeInterval = 10, deniedTTL: TimeInterval = 10, size: Int = 100_000) {
        self.allowedTTL = allowedTTL
        self.deniedTTL = deniedTTL
        self.size = size
    }
}

/// A wrong field in the `auth:` section: the file, the field's path, what is wrong.
public struct AuthConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let field: String
    public let message: String
    public var description: String { "\(file): \(field): \(message)" }
}

extension AuthConfiguration {
    /// The `auth:` section of tenantry.yaml (`tenantry serve --config FILE`).
    public static func load(file: String) throws -> AuthConfiguration {
        try AuthConfiguration(document: try ConfigDocument.read(at: file), file: file)
    }

    /// From the file's top-level mapping; other sections are other parts' business; no `auth:`
    /// section is the defaults (Kubernetes tokens only). Unknown keys are errors, with a suggestion.
    public init(document: JSON, file: String) throws(AuthConfigurationError) {
        self.init()
        let read = Reader(file: file)
        guard let auth = try read.mapping(document.objectValue?["auth"], "auth") else { return }
        try read.only(auth, ["issuers", "kubernetes", "authorization"], "auth")
        for (index, item) in (try read.list(auth["issuers"], "auth.issuers")).enumerated() {
            issuers.append(try read.issuer(item, "auth.issuers[\(index)]"))
        }
        let urls = issuers.map(\.url)
        if let repeated = urls.first(where: { url in urls.filter { $0 == url }.count > 1 }) {
            throw AuthConfigurationError(file: file, field: "auth.issuers", message: "issuer \(repeated) is listed twice; list each once")
        }
        if let value = auth["kubernetes"], value != .null {
            guard let kube = try read.mapping(value, "auth.kubernetes") else { return }
            try read.only(kube, ["enabled", "audiences", "cache"], "auth.kubernetes")
            if kube["enabled"] == .bool(false) {
                kubernetes = nil
            } else {
                var settings = KubernetesTokenConfiguration()
                if let audiences = try read.strings(kube["audiences"], "auth.kubernetes.audiences") {
                    guard !audiences.isEmpty else { throw AuthConfigurationError(file: file, field: "auth.kubernetes.audiences", message: "list at least one audience") }
                    settings.audiences = audiences
                }
                if let cache = try read.mapping(kube["cache"], "auth.kubernetes.cache") {
                    try read.only(cache, ["authenticated", "unauthenticated", "size"], "auth.kubernetes.cache")
                    settings.authenticatedTTL = try read.duration(cache["authenticated"], "auth.kubernetes.cache.authenticated") ?? settings.authenticatedTTL
                    settings.unauthenticatedTTL = try read.duration(cache["unauthenticated"], "auth.kubernetes.cache.unauthenticated") ?? settings.unauthenticatedTTL
                    settings.cacheSize = try read.size(cache["size"], "auth.kubernetes.cache.size") ?? settings.cacheSize
                }
                kubernetes = settings
            }
        }
        if let authz = try read.mapping(auth["authorization"], "auth.authorization") {
            try read.only(authz, ["cache"], "auth.authorization")
            if let cache = try read.mapping(authz["cache"], "auth.authorization.cache") {
                try read.only(cache, ["allowed", "denied", "size"], "auth.authorization.cache")
                authorization.allowedTTL = try read.duration(cache["allowed"], "auth.authorization.cache.allowed") ?? authorization.allowedTTL
                authorization.deniedTTL = try read.duration(cache["denied"], "auth.authorization.cache.denied") ?? authorization.deniedTTL
                authorization.size = try read.size(cache["size"], "auth.authorization.cache.size") ?? authorization.size
            }
        }
    }
}

/// Typed reads with messages that name the file and the field.
private struct Reader {
    let file: String

    func fail(_ field: String, _ message: String) -> AuthConfigurationError {
        AuthConfigurationError(file: file, field: field, message: message)
    }

    func mapping(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> JSONObject? {
        switch value {
        case nil, .null?: return nil
        case .object(let object)?: return object
        default: throw fail(field, "expected a mapping")
        }
    }

    func list(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> [JSON] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?: return items
        default: throw fail(field, "expected a list")
        }
    }

    func string(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw fail(field, "expected a string")
        }
    }

    func strings(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> [String]? {
        guard let value, value != .null else { return nil }
        guard let items = value.arrayValue else { throw fail(field, "expected a list of strings") }
        return try items.enumerated().map { (index, item) throws(AuthConfigurationError) -> String in
            guard let text = item.stringValue, !text.isEmpty else { throw fail("\(field)[\(index)]", "expected a non-empty string") }
            return text
        }
    }

    func duration(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> TimeInterval? {
        guard let text = try string(value, field) else { return nil }
        guard let seconds = DurationText.seconds(text) else { throw fail(field, "\"\(text)\" is not a duration; write it as 10s, 2m or 1h") }
        return TimeInterval(seconds)
    }

    func size(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> Int? {
        switch value {
        case nil, .null?: return nil
        case .int(let number)? where number > 0: return number
        default: throw fail(field, "expected a positive whole number")
        }
    }

    func only(_ object: JSONObject, _ known: [String], _ field: String) throws(AuthConfigurationError) {
        for key in object.keys where !known.contains(key) {
            var message = "unknown field \"\(key)\"; known: \(known.joined(separator: ", "))"
            if let guess = Suggest.closest(to: key, among: known) { message += " (did you mean \"\(guess)\"?)" }
            throw fail("\(field).\(key)", message)
        }
    }

    func issuer(_ value: JSON, _ field: String) throws(AuthConfigurationError) -> OIDCIssuerConfiguration {
        guard let object = try mapping(value, field) else { throw fail(field, "expected a mapping with url and audiences") }
        try only(object, ["url", "audiences", "algorithms", "certificateAuthority", "claimMappings", "clockSkew"], field)
        guard let url = try string(object["url"], "\(field).url"), let parsed = URL(string: url), parsed.scheme == "https",
              parsed.host != nil, parsed.query == nil, parsed.fragment == nil else {
            throw fail("\(field).url", "an issuer is an https:// URL without query or fragment (the tokens' iss, exactly)")
        }
        guard let audiences = try strings(object["audiences"], "\(field).audiences"), !audiences.isEmpty else {
            throw fail("\(field).audiences", "list the audiences a token must be meant for (its aud must contain one)")
        }
        var issuer = OIDCIssuerConfiguration(url: url, audiences: audiences)
        if let names = try strings(object["algorithms"], "\(field).algorithms") {
            issuer.algorithms = try names.enumerated().map { (index, name) throws(AuthConfigurationError) -> JWTAlgorithm in
                guard let algorithm = JWTAlgorithm(rawValue: name) else {
                    throw fail("\(field).algorithms[\(index)]", "\"\(name)\" is not supported; use RS256 or ES256")
                }
                return algorithm
            }
            guard !issuer.algorithms.isEmpty else { throw fail("\(field).algorithms", "list at least one of RS256, ES256") }
        }
        issuer.certificateAuthority = try string(object["certificateAuthority"], "\(field).certificateAuthority")
        if let skew = try duration(object["clockSkew"], "\(field).clockSkew") { issuer.leeway = skew }
        if let claims = try mapping(object["claimMappings"], "\(field).claimMappings") {
            try only(claims, ["username", "groups"], "\(field).claimMappings")
            if let username = try claim(claims["username"], "\(field).claimMappings.username") { issuer.username = username }
            issuer.groups = try claim(claims["groups"], "\(field).claimMappings.groups")
        }
        return issuer
    }

    func claim(_ value: JSON?, _ field: String) throws(AuthConfigurationError) -> ClaimMapping? {
        guard let object = try mapping(value, field) else { return nil }
        try only(object, ["claim", "prefix"], field)
        guard let claim = try string(object["claim"], "\(field).claim"), !claim.isEmpty else { throw fail("\(field).claim", "name the claim") }
        return ClaimMapping(claim: claim, prefix: try string(object["prefix"], "\(field).prefix") ?? "")
    }
}
