import Apply
import Foundation
import Model

/// The `Authorization` header → who is calling. A JWT whose (unverified) `iss` is a configured OIDC
/// issuer is that issuer's alone to verify — a person's ID token is never sent to the cluster; any
/// other bearer token goes to TokenReview when Kubernetes tokens are enabled. Errors are 401s whose
/// messages never contain the token.
public final class Authenticator: Sendable {
    public let issuers: [OIDCIssuer]
    public let tokenReviewer: TokenReviewer?

    public init(issuers: [OIDCIssuer], tokenReviewer: TokenReviewer?) {
        self.issuers = issuers
        self.tokenReviewer = tokenReviewer
    }

    /// From tenantry.yaml's `auth:` section, with the cluster client for TokenReview.
    public convenience init(configuration: AuthConfiguration, client: KubeClient?) {
        let reviewer = configuration.kubernetes.flatMap { settings in client.map { TokenReviewer(client: $0, configuration: settings) } }
        self.init(issuers: configuration.issuers.map { OIDCIssuer($0) }, tokenReviewer: reviewer)
    }

    /// The caller named by the `Authorization` header value (nil: the header was absent).
    public func authenticate(authorization header: String?, now: Date = Date()) throws(AuthenticationError) -> Caller {
        let token = try Self.bearerToken(header)
        if let claims = UnverifiedJWT(token)?.claims, let iss = claims["iss"]?.stringValue,
           let issuer = issuers.first(where: { $0.configuration.url == iss }) {
            return try issuer.authenticate(token, now: now)
        }
        guard let tokenReviewer else {
            throw AuthenticationError(.invalidToken, "the token is not from a configured OIDC issuer, and Kubernetes tokens are not accepted (auth.kubernetes.enabled is false)")
        }
        return try tokenReviewer.authenticate(token, now: now)
    }

    /// `Bearer <token>` (RFC 6750 §2.1: the scheme is case-insensitive; the token is b64token characters).
    public static func bearerToken(_ header: String?) throws(AuthenticationError) -> String {
        guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AuthenticationError(.unauthenticated, "no credentials: send Authorization: Bearer <token> (an OIDC ID token, or a Kubernetes token for this API's audience)")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AuthenticationError(.invalidToken, "the Authorization header must be Bearer <token>; other schemes are not accepted")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=".utf8)
        guard !token.isEmpty, token.utf8.count <= 16 * 1024, token.utf8.allSatisfy(allowed.contains) else {
            throw AuthenticationError(.invalidToken, "the bearer token is empty, longer than 16 KiB, or holds characters a token cannot have")
        }
        return token
    }
}
