import Model
import Synchronization

/// RBAC over the stored Roles, ClusterRoles and bindings. The policy is read once and kept until an
/// RBAC object changes (the store's `rbacGeneration` moves); decisions are cached the same way.
final class Authorizer: Sendable {
    private struct State {
        var generation = -1
        var policy: RBACPolicy?
        var decisions: [String: AuthorizationDecision] = [:]
    }

    /// Decisions kept before the cache starts over (a bound, not a working-set estimate).
    static let cacheLimit = 10_000
    private let store: Store
    private let state = Mutex(State())

    init(store: Store) {
        self.store = store
    }

    func authorize(_ user: UserInfo, _ request: RequestAttributes) throws -> AuthorizationDecision {
        if user.groups.contains(Groups.masters) { return AuthorizationDecision(allowed: true, reason: "") }
        let key = ([user.name, user.groups.joined(separator: "\u{1}"), request.verb, request.isResourceRequest ? "r" : "n", request.apiGroup,
                    request.resource, request.subresource, request.namespace, request.name, request.path]).joined(separator: "\u{0}")
        let generation = store.rbacGeneration.value
        if let cached = state.withLock({ $0.generation == generation ? $0.decisions[key] : nil }) { return cached }
        let decision = try policy().authorize(user, request)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.decisions.count >= Self.cacheLimit { state.decisions.removeAll(keepingCapacity: true) }
            state.decisions[key] = decision
        }
        return decision
    }

    /// The current policy, read again from the store after any RBAC write.
    func policy() throws -> RBACPolicy {
        // Read the generation before the objects: a write racing the read moves it, so the next
        // caller reads again rather than keeping a stale policy.
        let generation = store.rbacGeneration.value
        if let current = state.withLock({ $0.generation == generation ? $0.policy : nil }) { return current }
        let policy = try store.read { transaction in
            func all(_ type: ResourceType) throws -> [JSON] { try transaction.list(type, namespace: nil, after: nil, limit: Int.max) }
            return RBACPolicy(clusterRoles: try all(.clusterRoles), roles: try all(.roles),
                              clusterRoleBindings: try all(.clusterRoleBindings), roleBindings: try all(.roleBindings))
        }
        state.withLock { state in
            if state.generation != generation {
                state = State(generation: generation, policy: policy, decisions: [:])
            }
        }
        return policy
    }
}

/// A counter that only goes up.
final class Generation: Sendable {
    private let counter = Mutex(0)
    var value: Int { counter.withLock { $0 } }
    func advance() { counter.withLock { $0 += 1 } }
}
