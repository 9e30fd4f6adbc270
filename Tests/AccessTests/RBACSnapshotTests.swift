import Access
import Model
import XCTest

/// The in-process evaluation behind /user/namespaces, on hand-made RBAC objects.
final class RBACSnapshotTests: XCTestCase {
    private func rule(_ verbs: [String], resources: [String] = ["sessions"], groups: [String] = ["ambient.ai"], names: [String] = []) -> JSON {
        var rule: JSONObject = ["apiGroups": .strings(groups), "resources": .strings(resources), "verbs": .strings(verbs)]
        if !names.isEmpty { rule["resourceNames"] = .strings(names) }
        return .object(rule)
    }

    private func binding(_ name: String, namespace: String?, role: (kind: String, name: String), subjects: [JSON]) -> JSONObject {
        var metadata: JSONObject = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        return ["metadata": .object(metadata), "roleRef": ["kind": .string(role.kind), "name": .string(role.name)], "subjects": .array(subjects)]
    }

    func testAggregationServiceAccountsWildcardsAndResourceNames() {
        let clusterRoles: [JSONObject] = [
            ["metadata": ["name": "reader", "labels": ["acme/aggregate-to-sessions": "true"]], "rules": [rule(["get", "list"])]],
            ["metadata": ["name": "writer", "labels": ["acme/aggregate-to-sessions": "true"]], "rules": [rule(["create"])]],
            ["metadata": ["name": "sessions-all"], "aggregationRule": ["clusterRoleSelectors": [["matchLabels": ["acme/aggregate-to-sessions": "true"]]]]],
            ["metadata": ["name": "one-session"], "rules": [rule(["*"], names: ["fix-login"])]],
            ["metadata": ["name": "god"], "rules": [rule(["*"], resources: ["*"], groups: ["*"])]],
        ]
        let roleBindings = [
            binding("b1", namespace: "team-a", role: ("ClusterRole", "sessions-all"), subjects: [["kind": "ServiceAccount", "name": "ci"]]),
            binding("b2", namespace: "team-b", role: ("ClusterRole", "one-session"), subjects: [["kind": "User", "name": "ana"]]),
            binding("b3", namespace: "team-b", role: ("Role", "approve"), subjects: [["kind": "Group", "name": "leads"]]),
        ]
        let roles: [JSONObject] = [["metadata": ["name": "approve", "namespace": "team-b"], "rules": [rule(["approve"])]]]
        let clusterBindings = [binding("root", namespace: nil, role: ("ClusterRole", "god"), subjects: [["kind": "Group", "name": "platform"]])]
        let snapshot = RBACSnapshot(clusterRoles: clusterRoles, clusterRoleBindings: clusterBindings, roles: roles, roleBindings: roleBindings)
        let namespaces = ["team-a", "team-b"]
        let ci = Caller(user: "system:serviceaccount:team-a:ci", method: .kubernetes)
        XCTAssertEqual(snapshot.permissions(of: ci, in: namespaces), ["team-a": NamespacePermission(level: .editor, canApprove: false)])
        let ana = Caller(user: "ana", groups: ["leads"], method: .kubernetes)
        XCTAssertEqual(snapshot.permissions(of: ana, in: namespaces), ["team-b": NamespacePermission(level: nil, canApprove: true)],
                       "a rule for one named session grants nothing namespace-wide")
        let root = Caller(user: "root", groups: ["platform"], method: .kubernetes)
        XCTAssertEqual(snapshot.permissions(of: root, in: namespaces),
                       ["team-a": NamespacePermission(level: .admin, canApprove: true), "team-b": NamespacePermission(level: .admin, canApprove: true)])
        XCTAssertEqual(snapshot.permissions(of: Caller(user: "ci", method: .kubernetes), in: namespaces), [:], "a user named like the account is not it")
    }
}
