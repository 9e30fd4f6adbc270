import Apply
import Foundation
import Model
import Synchronization

/// `/user/namespaces`: an `RBACSnapshot` of the cluster, read with four lists (ClusterRoles,
/// ClusterRoleBindings, Roles, RoleBindings) and read again once it is older than `maxAge`, whatever
/// the number of callers. A change merged into the tenant repo shows within `maxAge` of its apply.
public final class NamespacePermissions: Sendable {
    public let maxAge: TimeInterval
    private let client: KubeClient
    private let current = Mutex<(snapshot: RBACSnapshot, taken: Date)?>(nil)
    private let refreshing = Mutex(())

    public init(client: KubeClient, maxAge: TimeInterval = 10) {
        self.client = client
        self.maxAge = maxAge
    }

    public func permissions(of caller: Caller, in namespaces: [String], now: Date = Date()) throws(KubeError) -> [String: NamespacePermission] {
        try snapshot(now: now).permissions(of: caller, in: namespaces)
    }

    /// The snapshot, refreshed by one caller at a time when stale (the others wait for that one).
    public func snapshot(now: Date = Date()) throws(KubeError) -> RBACSnapshot {
        if let fresh = current.withLock({ $0 }), now.timeIntervalSince(fresh.taken) < maxAge, now >= fresh.taken { return fresh.snapshot }
        return try refreshing.withLock { _ throws(KubeError) -> RBACSnapshot in
            if let fresh = current.withLock({ $0 }), now.timeIntervalSince(fresh.taken) < maxAge, now >= fresh.taken { return fresh.snapshot }
            let group = "rbac.authorization.k8s.io/v1"
            let snapshot = RBACSnapshot(clusterRoles: try client.list(apiVersion: group, kind: "ClusterRole"),
                                        clusterRoleBindings: try client.list(apiVersion: group, kind: "ClusterRoleBinding"),
                                        roles: try client.list(apiVersion: group, kind: "Role"),
                                        roleBindings: try client.list(apiVersion: group, kind: "RoleBinding"))
            current.withLock { $0 = (snapshot, now) }
            return snapshot
        }
    }
}
