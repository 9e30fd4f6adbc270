import Apply
import Foundation
import Model
import Support

/// Kubernetes tokens (ServiceAccounts, and whatever else the cluster authenticates) checked by the
/// cluster itself through a TokenReview for the Sessions API's audiences. Answers are cached by the
/// token's SHA-256 (never the token): an authenticated one for `authenticatedTTL` (but never past the
/// token's own `exp`), a refused one for `unauthenticatedTTL`. A cluster that cannot be asked is not cached.
public final class TokenReviewer: Sendable {
    public let configuration: KubernetesTokenConfiguration
    private let client: KubeClient
    private let cache: DecisionCache<String, Result<Caller, AuthenticationError>>

    public init(client: KubeClient, configuration: KubernetesTokenConfiguration = KubernetesTokenConfiguration()) {
        self.client = client
        self.configuration = configuration
        cache = DecisionCache(capacity: configuration.cacheSize)
    }

    /// Reviews sent to the cluster, and cache hits.
    public var statistics: (hits: Int, misses: Int) { cache.statistics }

    public func authenticate(_ token: String, now: Date = Date()) throws(AuthenticationError) -> Caller {
        let key = Crypto.sha256Hex(token.utf8)
        if let cached = cache.value(for: key, now: now) { return try cached.get() }
        let review: JSONObject = [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": ["token": .string(token), "audiences": .strings(configuration.audiences)],
        ]
        let answer: JSONObject
        do {
            answer = try client.create(review)
        } catch {
            throw AuthenticationError(.invalidToken, "cannot verify the token: the cluster's TokenReview failed (\(error)); try again")
        }
        let result = Self.caller(from: answer["status"] ?? .null, asked: configuration.audiences)
        switch result {
        case .success:
            var lifetime = configuration.authenticatedTTL
            if let expiry = UnverifiedJWT(token)?.claims["exp"].flatMap(JWT.numericDate) {
                lifetime = min(lifetime, expiry - now.timeIntervalSince1970)
            }
            cache.store(result, for: key, lifetime: lifetime, now: now)
        case .failure:
            cache.store(result, for: key, lifetime: configuration.unauthenticatedTTL, now: now)
        }
        return try result.get()
    }

    /// The caller a TokenReview status names, if it authenticated for one of the audiences asked.
    static func caller(from status: JSON, asked: [String]) -> Result<Caller, AuthenticationError> {
        guard status["authenticated"] == .bool(true) else {
            let why = status["error"]?.stringValue.map { ": \($0)" } ?? ""
            return .failure(AuthenticationError(.invalidToken, "the cluster did not authenticate the token\(why)"))
        }
        let audiences = status["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard audiences.contains(where: asked.contains) else {
            return .failure(AuthenticationError(.invalidToken, "the token is not meant for this API (its audiences do not include \(asked.joined(separator: " or ")))"))
        }
        let user = status["user"] ?? .null
        guard let name = user["username"]?.stringValue, !name.isEmpty else {
            return .failure(AuthenticationError(.invalidToken, "the cluster authenticated the token but named no user"))
        }
        var groups = user["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !groups.contains(SystemGroups.authenticated) { groups.append(SystemGroups.authenticated) }
        var extra: [String: [String]] = [:]
        if let object = user["extra"]?.objectValue {
            for (key, values) in object.pairs { extra[key] = values.arrayValue?.compactMap(\.stringValue) ?? [] }
        }
        return .success(Caller(user: name, uid: user["uid"]?.stringValue ?? "", groups: groups, extra: extra, method: .kubernetes))
    }
}
