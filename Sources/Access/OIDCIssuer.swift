import Foundation
import HTTPClient
import Model
import Support
import Synchronization

/// One OIDC identity provider: its keys found through discovery (`/.well-known/openid-configuration`
/// → `jwks_uri`) over HTTPS, cached, and fetched again when a token names a key id not in the cache —
/// at most once per `refetchInterval`, so a stream of made-up `kid`s cannot make the API hammer the
/// provider. Tokens are checked as kube-apiserver's JWT authenticator checks them.
public final class OIDCIssuer: Sendable {
    public let configuration: OIDCIssuerConfiguration
    public let refetchInterval: TimeInterval
    private let http: HTTPClient
    private let state = Mutex(KeyState())

    private struct KeyState: Sendable {
        var keys: [JWTVerificationKey] = []
        var lastFetch: Date?
        var fetches = 0
    }

    /// The largest discovery document or JWKS read.
    static let maxDocumentBytes = 1 << 20

    public init(_ configuration: OIDCIssuerConfiguration, refetchInterval: TimeInterval = 10) {
        self.configuration = configuration
        self.refetchInterval = refetchInterval
        http = HTTPClient(tls: TLSOptions(caFile: configuration.certificateAuthority), connectTimeout: 5)
    }

    /// Key-set fetches so far (discovery and JWKS count as one).
    public var fetches: Int { state.withLock { $0.fetches } }

    /// The caller a token names, or why it is refused. `now` is the clock for exp/nbf/iat and for
    /// the refetch rate limit.
    public func authenticate(_ token: String, now: Date = Date()) throws(AuthenticationError) -> Caller {
        let header = UnverifiedJWT(token)?.header ?? [:]
        let name = header["alg"]?.stringValue ?? ""
        guard let algorithm = JWTAlgorithm(rawValue: name), configuration.algorithms.contains(algorithm) else {
            let allowed = configuration.algorithms.map(\.rawValue).joined(separator: ", ")
            throw refused("token algorithm \"\(name)\" is not accepted from this issuer (only \(allowed))")
        }
        var keys = try currentKeys(now: now)
        if let kid = header["kid"]?.stringValue, !keys.contains(where: { $0.keyID == kid }) {
            keys = try refetchedKeys(now: now) ?? keys
        }
        let verified: VerifiedJWT
        do {
            verified = try JWT.verify(token, keys: keys.filter { configuration.algorithms.contains($0.algorithm) }, now: now, leeway: configuration.leeway)
        } catch {
            throw refused(error.description)
        }
        return try caller(from: verified.claims, audiences: verified.audiences, now: now)
    }

    // MARK: - Claims

    private func caller(from claims: JSONObject, audiences: [String], now: Date) throws(AuthenticationError) -> Caller {
        guard claims["iss"]?.stringValue == configuration.url else { throw refused("the token's iss is not \(configuration.url)") }
        guard audiences.contains(where: configuration.audiences.contains) else {
            throw refused("the token's audiences \(audiences) do not include \(configuration.audiences.joined(separator: " or "))")
        }
        if let issued = claims["iat"] {
            guard let seconds = JWT.numericDate(issued) else { throw refused("the iat claim is not a number") }
            guard seconds <= now.timeIntervalSince1970 + configuration.leeway else { throw refused("the token was issued in the future (iat)") }
        }
        let mapping = configuration.username
        guard let name = claims[mapping.claim]?.stringValue, !name.isEmpty else {
            throw refused("the token has no string \(mapping.claim) claim to name the user")
        }
        // As kube-apiserver: an email used as the user name must not be marked unverified.
        if mapping.claim == "email", let verifiedEmail = claims["email_verified"], verifiedEmail != .bool(true) {
            throw refused("the token's email is not verified (email_verified is not true)")
        }
        var groups: [String] = []
        if let mapping = configuration.groups {
            switch claims[mapping.claim] {
            case nil, .null?: break
            case .string(let one)?: groups = [one]
            case .array(let many)?:
                groups = try many.map { (item) throws(AuthenticationError) -> String in
                    guard let text = item.stringValue else { throw refused("the \(mapping.claim) claim holds something other than strings") }
                    return text
                }
            default: throw refused("the \(mapping.claim) claim is neither a string nor a list of strings")
            }
            groups = groups.map { mapping.prefix + $0 }
        }
        if !groups.contains(SystemGroups.authenticated) { groups.append(SystemGroups.authenticated) }
        return Caller(user: mapping.prefix + name, uid: claims["sub"]?.stringValue ?? "", groups: groups, method: .oidc(issuer: configuration.url))
    }

    private func refused(_ why: String) -> AuthenticationError {
        AuthenticationError(.invalidToken, "OIDC token from \(configuration.url) refused: \(why)")
    }

    // MARK: - Keys

    private func currentKeys(now: Date) throws(AuthenticationError) -> [JWTVerificationKey] {
        let cached = state.withLock { $0.keys }
        if !cached.isEmpty { return cached }
        return try refetchedKeys(now: now) ?? []
    }

    /// Fetches the key set unless it was fetched less than `refetchInterval` ago (then nil).
    private func refetchedKeys(now: Date) throws(AuthenticationError) -> [JWTVerificationKey]? {
        let due = state.withLock { state -> Bool in
            if let last = state.lastFetch, now.timeIntervalSince(last) < refetchInterval, now >= last { return false }
            state.lastFetch = now
            state.fetches += 1
            return true
        }
        guard due else { return nil }
        let keys = try fetchKeys()
        state.withLock { $0.keys = keys }
        return keys
    }

    private func fetchKeys() throws(AuthenticationError) -> [JWTVerificationKey] {
        let discoveryURL = configuration.url.trimmingSuffix("/") + "/.well-known/openid-configuration"
        let discovery = try document(discoveryURL, what: "discovery")
        guard discovery["issuer"]?.stringValue == configuration.url else {
            throw AuthenticationError(.invalidToken, "OIDC discovery at \(discoveryURL) names issuer \"\(discovery["issuer"]?.stringValue ?? "")\", not \(configuration.url); the issuer URL must match exactly")
        }
        guard let jwksURI = discovery["jwks_uri"]?.stringValue, jwksURI.hasPrefix("https://") else {
            throw AuthenticationError(.invalidToken, "OIDC discovery at \(discoveryURL) has no https jwks_uri")
        }
        let set = try document(jwksURI, what: "JWKS")
        // Keys of other types or uses (encryption, HMAC) are skipped, not fatal: providers publish them.
        let keys = (set["keys"]?.arrayValue ?? []).compactMap { jwk -> JWTVerificationKey? in
            if let use = jwk["use"]?.stringValue, use != "sig" { return nil }
            return try? JWTVerificationKey(jwk: jwk)
        }
        guard !keys.isEmpty else { throw AuthenticationError(.invalidToken, "the JWKS at \(jwksURI) holds no RS256 or ES256 signing key") }
        return keys
    }

    private func document(_ url: String, what: String) throws(AuthenticationError) -> JSON {
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], timeout: 10))
        } catch {
            throw AuthenticationError(.invalidToken, "cannot fetch the OIDC \(what) of \(configuration.url): \(error)")
        }
        guard response.status == 200 else {
            throw AuthenticationError(.invalidToken, "the OIDC \(what) at \(url) answered HTTP \(response.status)")
        }
        guard response.body.count <= Self.maxDocumentBytes, let json = try? JSON(parsing: Data(response.body)), json.objectValue != nil else {
            throw AuthenticationError(.invalidToken, "the OIDC \(what) at \(url) is not a JSON object of at most \(Self.maxDocumentBytes) bytes")
        }
        return json
    }
}

/// The groups Kubernetes gives every authenticated user.
enum SystemGroups {
    static let authenticated = "system:authenticated"
}

/// A JWT's header and claims read without checking anything: only to choose who verifies it.
struct UnverifiedJWT {
    let header: JSONObject
    let claims: JSONObject

    init?(_ token: String) {
        guard token.utf8.count <= JWT.maxLength else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(parts[0]).flatMap({ try? JSON(parsing: Data($0)) })?.objectValue,
              let claims = Base64URL.decode(parts[1]).flatMap({ try? JSON(parsing: Data($0)) })?.objectValue else { return nil }
        self.header = header
        self.claims = claims
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
