import Apply
import Foundation
import Model

/// The decision for one request.
public struct AccessDecision: Sendable, Hashable {
    public var allowed: Bool
    /// RBAC's reason when it said why (the binding that allowed), else empty.
    public var reason: String

    public init(allowed: Bool, reason: String = "") {
        self.allowed = allowed
        self.reason = reason
    }
}

/// The cluster could not be asked; nothing was decided (the API answers 503, and nothing is cached).
public struct AuthorizationUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Every call → a SubjectAccessReview for the caller's user, uid, groups and extra on the cluster, so
/// the tenant RBAC Tenantry renders from git is the only source of truth. Decisions are cached (allowed
/// and denied for their own lifetimes, bounded), keyed by the whole caller and the whole request.
public final class AccessReviewer: Sendable {
    public let configuration: AuthorizationCacheConfiguration
    private let client: KubeClient
    private let cache: DecisionCache<Key, AccessDecision>

    struct Key: Hashable, Sendable {
        var user: String
        var uid: String
        var groups: [String]
        var extra: [String: [String]]
        var request: AccessRequest
    }

    public init(client: KubeClient, configuration: AuthorizationCacheConfiguration = AuthorizationCacheConfiguration()) {
        self.client = client
        self.configuration = configuration
        cache = DecisionCache(capacity: configuration.size)
    }

    public var statistics: (hits: Int, misses: Int) { cache.statistics }

    public func authorize(_ caller: Caller, _ request: AccessRequest, now: Date = Date()) throws(AuthorizationUnavailable) -> AccessDecision {
        let key = Key(user: caller.user, uid: caller.uid, groups: caller.groups.sorted(), extra: caller.extra, request: request)
        if let cached = cache.value(for: key, now: now) { return cached }
        let decision = try review(caller, request)
        cache.store(decision, for: key, lifetime: decision.allowed ? configuration.allowedTTL : configuration.deniedTTL, now: now)
        return decision
    }

    private func review(_ caller: Caller, _ request: AccessRequest) throws(AuthorizationUnavailable) -> AccessDecision {
        var attributes: JSONObject = ["namespace": .string(request.namespace), "verb": .string(request.verb),
                                      "group": .string(AccessRequest.group), "resource": .string(AccessRequest.resource)]
        if !request.subresource.isEmpty { attributes["subresource"] = .string(request.subresource) }
        if !request.name.isEmpty { attributes["name"] = .string(request.name) }
        var spec: JSONObject = ["user": .string(caller.user), "groups": .strings(caller.groups), "resourceAttributes": .object(attributes)]
        if !caller.uid.isEmpty { spec["uid"] = .string(caller.uid) }
        if !caller.extra.isEmpty {
            spec["extra"] = .object(JSONObject(caller.extra.sorted { $0.key < $1.key }.map { ($0.key, JSON.strings($0.value)) }))
        }
        let answer: JSONObject
        do {
            answer = try client.create(["apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": .object(spec)])
        } catch {
            throw AuthorizationUnavailable(message: "cannot authorize the request: the cluster's SubjectAccessReview failed (\(error)); try again")
        }
        let status = answer["status"] ?? .null
        // `denied: true` is an explicit no from an authorizer; `allowed` must be true to go on.
        let allowed = status["allowed"] == .bool(true) && status["denied"] != .bool(true)
        return AccessDecision(allowed: allowed, reason: status["reason"]?.stringValue ?? "")
    }
}
