import Foundation
import Model
import Support
import Synchronization

/// The cluster's token authority: signs ServiceAccount tokens (TokenRequest, projected pod tokens)
/// and user tokens (`tenantry cluster token`) with the ES256 key in DIR/sa.key, and authenticates
/// them. Bound tokens are checked against the store on every use, so deleting the Pod, Secret or
/// ServiceAccount they name ends them at once.
public final class ServiceAccountTokenIssuer: Sendable {
    /// `iss` of every token, and the audience the API server accepts (kube's default `--api-audiences`).
    public static let issuer = "https://kubernetes.default.svc.cluster.local"
    static let apiAudiences = [issuer]
    static let defaultExpirationSeconds = 3600
    /// Signature checks kept before the cache starts over.
    static let cacheLimit = 4096

    let key: JWTSigningKey
    private let store: Store
    private let verified = Mutex<[String: VerifiedJWT]>([:])

    init(key: JWTSigningKey, store: Store) {
        self.key = key
        self.store = store
    }

    /// A token for a ServiceAccount (for the local node's projected volumes): `audiences` empty means
    /// the API server's; bound to a pod when `boundPod` is given, so it dies with that pod. Reads the
    /// store, so call it outside any store transaction. Throws 404 NotFound when the account is missing.
    public func issue(namespace: String, serviceAccount: String, audiences: [String] = [], expirationSeconds: Int = 3600,
                      boundPod: (name: String, uid: String)? = nil) throws -> (token: String, expiration: Date) {
        guard let account = try store.read({ try $0.get(.serviceAccounts, namespace: namespace, name: serviceAccount) }) else {
            throw APIError.notFound(.serviceAccounts, serviceAccount)
        }
        return try issue(account: account, audiences: audiences, expirationSeconds: expirationSeconds,
                         binding: boundPod.map { BoundObject(kind: "Pod", name: $0.name, uid: $0.uid) })
    }

    /// A Pod's projected token (one hour, bound to the Pod so it dies with it), or nil when the Pod's
    /// ServiceAccount does not exist: the kubelet then writes no `token` file.
    func issueIfAccountExists(namespace: String, serviceAccount: String, boundPod: (name: String, uid: String), audiences: [String] = []) throws -> String? {
        guard let account = try store.read({ try $0.get(.serviceAccounts, namespace: namespace, name: serviceAccount) }) else { return nil }
        return try issue(account: account, audiences: audiences, expirationSeconds: 3600,
                         binding: BoundObject(kind: "Pod", name: boundPod.name, uid: boundPod.uid)).token
    }

    /// What a bound token names besides its ServiceAccount.
    struct BoundObject: Sendable, Hashable {
        var kind: String
        var name: String
        var uid: String
    }

    func issue(account: JSON, audiences: [String], expirationSeconds: Int, binding: BoundObject?, now: Date = Date()) throws -> (token: String, expiration: Date) {
        let issued = Int(now.timeIntervalSince1970)
        let expiration = issued + expirationSeconds
        var kubernetes: JSONObject = ["namespace": .string(account.namespace)]
        if let binding {
            kubernetes[binding.kind.lowercased()] = ["name": .string(binding.name), "uid": .string(binding.uid)]
        }
        kubernetes["serviceaccount"] = ["name": .string(account.name), "uid": .string(account.value(at: ["metadata", "uid"])?.stringValue ?? "")]
        let claims: JSONObject = [
            "aud": .strings(audiences.isEmpty ? Self.apiAudiences : audiences), "exp": .int(expiration), "iat": .int(issued),
            "iss": .string(Self.issuer), "jti": .string(UUID().uuidString.lowercased()), "kubernetes.io": .object(kubernetes),
            "nbf": .int(issued), "sub": .string(ServiceAccountName(namespace: account.namespace, name: account.name).username),
        ]
        return (try JWT.sign(claims, with: key), Date(timeIntervalSince1970: TimeInterval(expiration)))
    }

    /// A token for a named user and groups, signed by the same key: how tests and the Sessions API act
    /// as a tenant member. Not revocable; it ends at `exp`.
    static func userToken(user: String, groups: [String], validFor seconds: Int, key: JWTSigningKey, now: Date = Date()) throws -> String {
        let issued = Int(now.timeIntervalSince1970)
        let claims: JSONObject = [
            "aud": .strings(apiAudiences), "exp": .int(issued + seconds), "groups": .strings(groups), "iat": .int(issued),
            "iss": .string(issuer), "jti": .string(UUID().uuidString.lowercased()), "nbf": .int(issued), "sub": .string(user),
        ]
        return try JWT.sign(claims, with: key)
    }

    /// The user a bearer JWT names, if it is one of this cluster's, for one of `audiences`, unexpired,
    /// and (when bound) its objects still exist. The failure says why, for TokenReview's `error`.
    func authenticate(_ token: String, audiences: [String] = apiAudiences, now: Date = Date()) -> Result<(UserInfo, [String]), TokenRejection> {
        let digest = Crypto.sha256Hex(token.utf8)
        var jwt = verified.withLock { $0[digest] }
        if let cached = jwt, let expiration = cached.expiration, expiration <= now { jwt = nil }
        if jwt == nil {
            do {
                let checked = try JWT.verify(token, keys: [key.publicKey], now: now)
                verified.withLock { cache in
                    if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
                    cache[digest] = checked
                }
                jwt = checked
            } catch {
                return .failure(TokenRejection("invalid bearer token, \(error)"))
            }
        }
        guard let jwt else { return .failure(TokenRejection("invalid bearer token")) }
        guard jwt.claims["iss"]?.stringValue == Self.issuer else { return .failure(TokenRejection("invalid bearer token, token issuer is not this cluster")) }
        let matched = jwt.audiences.filter(audiences.contains)
        guard !matched.isEmpty else { return .failure(TokenRejection("invalid bearer token, token audiences \(jwt.audiences) is invalid for the target audiences \(audiences)")) }
        let subject = jwt.claims["sub"]?.stringValue ?? ""
        guard !subject.isEmpty else { return .failure(TokenRejection("invalid bearer token, the token has no subject")) }
        guard let kubernetes = jwt.claims["kubernetes.io"] else {
            var groups = jwt.claims["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if !groups.contains(Groups.authenticated) { groups.append(Groups.authenticated) }
            return .success((UserInfo(name: subject, groups: groups), matched))
        }
        do {
            return .success((try serviceAccount(subject, kubernetes, jti: jwt.claims["jti"]?.stringValue), matched))
        } catch let rejection as TokenRejection {
            return .failure(rejection)
        } catch {
            return .failure(TokenRejection("invalid bearer token, \(error)"))
        }
    }

    /// The ServiceAccount user of a token's `kubernetes.io` claim, once its objects are found live.
    private func serviceAccount(_ subject: String, _ claim: JSON, jti: String?) throws -> UserInfo {
        let namespace = claim["namespace"]?.stringValue ?? ""
        let account = claim["serviceaccount"]
        guard let name = account?["name"]?.stringValue, subject == ServiceAccountName(namespace: namespace, name: name).username else {
            throw TokenRejection("invalid bearer token, the token's subject does not match its service account")
        }
        var extra: [String: [String]] = [:]
        try store.read { transaction in
            func live(_ type: ResourceType, _ reference: JSON?) throws -> Bool {
                guard let objectName = reference?["name"]?.stringValue,
                      let object = try transaction.get(type, namespace: namespace, name: objectName) else { return false }
                return object.value(at: ["metadata", "uid"])?.stringValue == reference?["uid"]?.stringValue && !object.isDeleting
            }
            guard try live(.serviceAccounts, account) else {
                throw TokenRejection("invalid bearer token, service account token has been invalidated")
            }
            if let pod = claim["pod"] {
                guard try live(.pods, pod) else { throw TokenRejection("invalid bearer token, the pod this token is bound to no longer exists") }
                extra["authentication.kubernetes.io/pod-name"] = [pod["name"]?.stringValue ?? ""]
                extra["authentication.kubernetes.io/pod-uid"] = [pod["uid"]?.stringValue ?? ""]
            }
            if let secret = claim["secret"], try !live(.secrets, secret) {
                throw TokenRejection("invalid bearer token, the secret this token is bound to no longer exists")
            }
        }
        if let jti { extra["authentication.kubernetes.io/credential-id"] = ["JTI=\(jti)"] }
        return UserInfo(name: subject, uid: account?["uid"]?.stringValue ?? "",
                        groups: ServiceAccountName(namespace: namespace, name: name).groups, extra: extra)
    }
}

/// Why a token did not authenticate (never containing the token).
struct TokenRejection: Error, Sendable, Hashable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// `tenantry cluster token`: a signed token for a named user, without a running server.
public enum UserTokens {
    /// Signs with DIR/sa.key (made if the cluster never started, and then used by it). The user may
    /// not be a ServiceAccount name: those come from TokenRequest, bound to a live account.
    public static func mint(directory: String, user: String, groups: [String], validForSeconds seconds: Int) throws -> String {
        guard !user.isEmpty else { throw UsageError("--user needs a user name") }
        guard !user.hasPrefix(ServiceAccountName.prefix) else {
            throw UsageError("\(user) is a ServiceAccount name: ask the cluster for its token with `kubectl create token NAME -n NAMESPACE`")
        }
        guard seconds > 0 else { throw UsageError("--duration must be positive") }
        let files = ClusterFiles(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return try ServiceAccountTokenIssuer.userToken(user: user, groups: groups, validFor: seconds, key: files.loadOrCreateSigningKey())
    }
}
