import Foundation
import LocalCluster
import Model
import Support
import XCTest

/// RBAC as kube-apiserver enforces it, through real HTTP with minted user tokens: the rules, the
/// Forbidden wording, decisions following RBAC changes, the review APIs and impersonation.
final class AuthorizationTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws {
        cluster = try TestCluster()
        cluster.createNamespace("team-a")
        cluster.createNamespace("team-b")
    }

    override func tearDown() { cluster?.stop() }

    private func token(_ user: String, _ groups: String...) throws -> String {
        try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600)
    }

    private func create(_ path: String, _ object: JSON) {
        let response = cluster.request("POST", path, json: object)
        XCTAssertEqual(response.status, 201, response.text)
    }

    private func clusterRole(_ name: String, _ rules: JSON, labels: JSON? = nil, aggregation: JSON? = nil) {
        var metadata: JSONObject = ["name": .string(name)]
        if let labels { metadata["labels"] = labels }
        var role: JSONObject = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": .object(metadata), "rules": rules]
        if let aggregation { role["aggregationRule"] = aggregation }
        create("/apis/rbac.authorization.k8s.io/v1/clusterroles", .object(role))
    }

    private func bind(_ name: String, namespace: String?, role: String, roleKind: String = "ClusterRole", subjects: JSON) {
        let kind = namespace == nil ? "ClusterRoleBinding" : "RoleBinding"
        var metadata: JSONObject = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        let binding: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": .string(kind), "metadata": .object(metadata),
                             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(roleKind), "name": .string(role)],
                             "subjects": subjects]
        create(namespace.map { "/apis/rbac.authorization.k8s.io/v1/namespaces/\($0)/rolebindings" } ?? "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    }

    private static func user(_ name: String) -> JSON { [["kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": .string(name)]] }

    /// SubjectAccessReview as the admin: the authorizer's decision for anyone.
    private func allowed(_ user: String, groups: [String] = [], _ attributes: JSON) -> Bool? {
        let key = attributes["path"] == nil ? "resourceAttributes" : "nonResourceAttributes"
        let review = cluster.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", json: [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": ["user": .string(user), "groups": .strings(groups), key: attributes],
        ])
        XCTAssertEqual(review.status, 201, review.text)
        return review.json.at("status", "allowed").flatMap { if case .bool(let value) = $0 { return value } else { return nil } }
    }

    func testForbiddenIsWordedAsKubeApiserverWordsIt() throws {
        let alice = try token("alice")
        func message(_ method: String, _ path: String) -> (Int, JSON) {
            let response = cluster.request(method, path, json: Optional<JSON>.none, token: alice)
            return (response.status, response.json)
        }
        let (code, list) = message("GET", "/api/v1/namespaces/team-a/configmaps")
        XCTAssertEqual(code, 403, "\(list)")
        XCTAssertEqual(list["reason"], "Forbidden")
        XCTAssertEqual(list["message"], "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")
        XCTAssertEqual(list["details"], ["kind": "configmaps"])
        XCTAssertEqual(message("GET", "/api/v1/namespaces/team-a/configmaps/x").1["message"],
                       "configmaps \"x\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")
        XCTAssertEqual(message("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles").1["message"],
                       "clusterroles.rbac.authorization.k8s.io is forbidden: User \"alice\" cannot list resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope")
        XCTAssertEqual(message("GET", "/api/v1/namespaces/team-a/pods/p/status").1["message"],
                       "pods \"p\" is forbidden: User \"alice\" cannot get resource \"pods/status\" in API group \"\" in the namespace \"team-a\"")
        XCTAssertEqual(message("GET", "/api/v1/namespaces/team-a").1["message"],
                       "namespaces \"team-a\" is forbidden: User \"alice\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"team-a\"")
        XCTAssertEqual(message("DELETE", "/api/v1/namespaces/team-a/configmaps").1["message"],
                       "configmaps is forbidden: User \"alice\" cannot deletecollection resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")
        XCTAssertEqual(message("GET", "/api/v1/namespaces/team-a/configmaps?watch=true").1["message"],
                       "configmaps is forbidden: User \"alice\" cannot watch resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")
        XCTAssertEqual(message("GET", "/metrics").1["message"], "forbidden: User \"alice\" cannot get path \"/metrics\"")
        // Discovery and self-reviews are every authenticated user's (the bootstrap policy).
        XCTAssertEqual(cluster.request("GET", "/apis", token: alice).status, 200)
        XCTAssertEqual(cluster.request("GET", "/api/v1", token: alice).status, 200)
        let whoami = cluster.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", json: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"], token: alice)
        XCTAssertEqual(whoami.status, 201, whoami.text)
        XCTAssertEqual(whoami.json.at("status", "userInfo"), ["username": "alice", "groups": ["system:authenticated"]])
    }

    func testARoleBindingGrantsItsRulesInItsNamespaceOnly() throws {
        let alice = try token("alice")
        clusterRole("cm-reader", [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]]])
        bind("alice-reads", namespace: "team-a", role: "cm-reader", subjects: Self.user("alice"))
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-a/configmaps", token: alice).status, 200)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-b/configmaps", token: alice).status, 403)
        XCTAssertEqual(cluster.request("GET", "/api/v1/configmaps", token: alice).status, 403, "all namespaces is the cluster scope")
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/team-a/configmaps", json: configMap("x"), token: alice).status, 403)
        let watch = cluster.watch("/api/v1/namespaces/team-a/configmaps?watch=true&timeoutSeconds=1")
        defer { watch.close() }
        _ = watch.next()
        XCTAssertEqual(watch.status, 200)
    }

    func testVerbsResourcesSubresourcesNamesGroupsAndPaths() throws {
        clusterRole("mixed", [
            ["apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]],
            ["apiGroups": ["ambient.ai"], "resources": ["sessions"], "verbs": ["approve"], "resourceNames": ["s1"]],
            ["apiGroups": ["batch"], "resources": ["*"], "verbs": ["*"]],
            ["apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]],
            ["nonResourceURLs": ["/metrics", "/logs/*"], "verbs": ["get"]],
        ])
        bind("bob-mixed", namespace: nil, role: "mixed", subjects: Self.user("bob"))
        func resource(_ verb: String, _ group: String, _ resource: String, sub: String = "", name: String = "", namespace: String = "team-a") -> JSON {
            ["verb": .string(verb), "group": .string(group), "resource": .string(resource), "subresource": .string(sub), "name": .string(name), "namespace": .string(namespace)]
        }
        XCTAssertEqual(allowed("bob", resource("get", "", "pods", sub: "log", name: "p")), true)
        XCTAssertEqual(allowed("bob", resource("get", "", "pods", name: "p")), false, "a subresource rule does not grant the resource")
        XCTAssertEqual(allowed("bob", resource("approve", "ambient.ai", "sessions", name: "s1")), true, "custom verbs")
        XCTAssertEqual(allowed("bob", resource("approve", "ambient.ai", "sessions", name: "s2")), false, "resourceNames")
        XCTAssertEqual(allowed("bob", resource("approve", "ambient.ai", "sessions")), false, "resourceNames never match an unnamed request")
        XCTAssertEqual(allowed("bob", resource("deletecollection", "batch", "jobs")), true, "* verbs and resources")
        XCTAssertEqual(allowed("bob", resource("delete", "", "jobs")), false, "API groups")
        XCTAssertEqual(allowed("bob", resource("patch", "ambient.ai", "sessions", sub: "status", name: "s1")), true, "*/status")
        XCTAssertEqual(allowed("bob", ["verb": "get", "path": "/metrics"]), true)
        XCTAssertEqual(allowed("bob", ["verb": "get", "path": "/logs/kube"]), true, "a trailing * is a prefix")
        XCTAssertEqual(allowed("bob", ["verb": "post", "path": "/metrics"]), false)
        XCTAssertEqual(allowed("carol", groups: ["system:masters"], resource("anything", "x.io", "things")), true, "system:masters is always allowed")
        XCTAssertEqual(allowed("carol", groups: ["system:authenticated"], ["verb": "get", "path": "/version"]), true, "system:public-info-viewer")
    }

    func testServiceAccountSubjectsAggregationAndRoles() throws {
        // A ServiceAccount subject without a namespace is the RoleBinding's own.
        let role: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "leases", "namespace": "team-a"],
                          "rules": [["apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"]]]]
        create("/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles", role)
        bind("runner", namespace: "team-a", role: "leases", roleKind: "Role", subjects: [["kind": "ServiceAccount", "name": "runner"]])
        let lease: JSON = ["verb": "update", "group": "coordination.k8s.io", "resource": "leases", "namespace": "team-a", "name": "l"]
        XCTAssertEqual(allowed("system:serviceaccount:team-a:runner", lease), true)
        XCTAssertEqual(allowed("system:serviceaccount:team-b:runner", lease), false)
        let elsewhere: JSON = ["verb": "update", "group": "coordination.k8s.io", "resource": "leases", "namespace": "team-b", "name": "l"]
        XCTAssertEqual(allowed("system:serviceaccount:team-a:runner", elsewhere), false)

        // An aggregated ClusterRole holds the rules of the roles its selector matches, as they change.
        clusterRole("aggregate", [], aggregation: ["clusterRoleSelectors": [["matchLabels": ["rbac.example/aggregate": "true"]]]])
        bind("dave-aggregate", namespace: nil, role: "aggregate", subjects: Self.user("dave"))
        let secrets: JSON = ["verb": "list", "group": "", "resource": "secrets", "namespace": "team-a"]
        XCTAssertEqual(allowed("dave", secrets), false)
        clusterRole("secrets-reader", [["apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]]], labels: ["rbac.example/aggregate": "true"])
        XCTAssertEqual(allowed("dave", secrets), true)
        // An aggregate of aggregates gets the rules of both levels (named to sort before the one it selects).
        clusterRole("middle", [], labels: ["tier": "inner"], aggregation: ["clusterRoleSelectors": [["matchLabels": ["rbac.example/aggregate": "true"]]]])
        clusterRole("a-outer", [], aggregation: ["clusterRoleSelectors": [["matchExpressions": [["key": "tier", "operator": "In", "values": ["inner"]]]]]])
        bind("hank-outer", namespace: nil, role: "a-outer", subjects: Self.user("hank"))
        XCTAssertEqual(allowed("hank", secrets), true)
    }

    func testDecisionsFollowRBACChanges() throws {
        let erin = try token("erin", "auditors")
        let path = "/api/v1/namespaces/team-a/configmaps"
        XCTAssertEqual(cluster.request("GET", path, token: erin).status, 403)
        clusterRole("auditor", [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]]])
        bind("auditors", namespace: "team-a", role: "auditor", subjects: [["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "auditors"]])
        XCTAssertEqual(cluster.request("GET", path, token: erin).status, 200, "a new binding takes effect at once")
        let narrowed = cluster.request("PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/auditor", json: ["rules": [["apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]]]],
                                       contentType: "application/merge-patch+json")
        XCTAssertEqual(narrowed.status, 200, narrowed.text)
        XCTAssertEqual(cluster.request("GET", path, token: erin).status, 403, "a changed role takes effect at once")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-a/secrets", token: erin).status, 200)
        XCTAssertEqual(cluster.request("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/auditors").status, 200)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-a/secrets", token: erin).status, 403, "a deleted binding takes effect at once")
    }

    func testImpersonationNeedsTheImpersonateVerb() throws {
        let frank = try token("frank")
        let asBob = TestHTTP.send("GET", cluster.server.url + "/api/v1/namespaces/team-a/configmaps", body: nil, contentType: "application/json",
                                  token: frank, headers: ["Impersonate-User": "bob"])
        XCTAssertEqual(asBob.status, 403)
        XCTAssertEqual(asBob.json["message"], "users \"bob\" is forbidden: User \"frank\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope")
        clusterRole("impersonate-bob", [["apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["bob"]]])
        bind("frank-as-bob", namespace: nil, role: "impersonate-bob", subjects: Self.user("frank"))
        let whoami = TestHTTP.send("POST", cluster.server.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                   body: Data(#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#.utf8), contentType: "application/json",
                                   token: frank, headers: ["Impersonate-User": "bob"])
        XCTAssertEqual(whoami.status, 201, whoami.text)
        XCTAssertEqual(whoami.json.at("status", "userInfo"), ["username": "bob", "groups": ["system:authenticated"]])
        let withGroup = TestHTTP.send("GET", cluster.server.url + "/api/v1/namespaces/team-a/configmaps", body: nil, contentType: "application/json",
                                      token: frank, headers: ["Impersonate-User": "bob", "Impersonate-Group": "system:masters"])
        XCTAssertEqual(withGroup.status, 403, "groups need their own permission")
        XCTAssertEqual(withGroup.json["message"], "groups \"system:masters\" is forbidden: User \"frank\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope")
        // The admin may impersonate anyone, and then has only their rights.
        let admin = TestHTTP.send("GET", cluster.server.url + "/api/v1/namespaces/team-a/configmaps", body: nil, contentType: "application/json",
                                  token: cluster.server.token, headers: ["Impersonate-User": "bob"])
        XCTAssertEqual(admin.status, 403)
        XCTAssertEqual(admin.json["message"], "configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")
    }

    func testNobodyGrantsWhatTheyDoNotHold() throws {
        let grace = try token("grace")
        clusterRole("rbac-manager", [
            ["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "update", "patch"]],
            ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]],
        ])
        bind("grace-manages", namespace: "team-a", role: "rbac-manager", subjects: Self.user("grace"))
        func role(_ name: String, _ resource: String) -> JSON {
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": .string(name)],
             "rules": [["apiGroups": [""], "resources": [.string(resource)], "verbs": ["get"]]]]
        }
        let held = cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles", json: role("cm", "configmaps"), token: grace)
        XCTAssertEqual(held.status, 201, held.text)
        let escalating = cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles", json: role("secrets", "secrets"), token: grace)
        XCTAssertEqual(escalating.status, 403)
        XCTAssertEqual(escalating.json["message"], """
            roles.rbac.authorization.k8s.io "secrets" is forbidden: user "grace" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
            {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}
            """)
        func binding(_ name: String, to role: String) -> JSON {
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": .string(name)],
             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role)], "subjects": Self.user("grace")]
        }
        let path = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings"
        let admin = cluster.request("POST", path, json: binding("grace-admin", to: "cluster-admin"), token: grace)
        XCTAssertEqual(admin.status, 403, "binding cluster-admin grants what grace lacks")
        XCTAssertTrue(admin.json["message"]?.stringValue?.contains(#"{APIGroups:["*"], Resources:["*"], Verbs:["*"]}"#) ?? false, admin.text)
        // The bind verb on one role lets her bind exactly that role.
        clusterRole("binder", [["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["cluster-admin"]]])
        bind("grace-binds", namespace: "team-a", role: "binder", subjects: Self.user("grace"))
        XCTAssertEqual(cluster.request("POST", path, json: binding("grace-admin", to: "cluster-admin"), token: grace).status, 201)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-a/secrets", token: grace).status, 200)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-b/secrets", token: grace).status, 403, "a RoleBinding of cluster-admin is still one namespace")
    }

    /// Server-side apply is a PATCH, but one that creates the object is authorized as `create` too (by the object's
    /// name), as kube-apiserver's patch handler does: `patch` alone edits what exists and creates nothing.
    func testAnApplyThatCreatesNeedsCreateAsWellAsPatch() throws {
        let hana = try token("hana")
        clusterRole("configmap-patcher", [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]]])
        bind("hana-patches", namespace: "team-a", role: "configmap-patcher", subjects: Self.user("hana"))
        func apply(_ name: String, _ value: String) -> TestResponse {
            cluster.request("PATCH", "/api/v1/namespaces/team-a/configmaps/\(name)?fieldManager=hana",
                            json: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["k": .string(value)]],
                            contentType: "application/apply-patch+yaml", token: hana)
        }
        let refused = apply("settings", "1")
        XCTAssertEqual(refused.status, 403, refused.text)
        XCTAssertEqual(refused.json["message"], #"configmaps "settings" is forbidden: User "hana" cannot create resource "configmaps" in API group "" in the namespace "team-a""#)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team-a/configmaps/settings").status, 404, "nothing was created")
        create("/api/v1/namespaces/team-a/configmaps", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings"]])
        XCTAssertEqual(apply("settings", "2").status, 200, "patch edits what exists")
        // `create` limited by name allows exactly that name.
        clusterRole("configmap-creator", [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"], "resourceNames": ["inventory"]]])
        bind("hana-creates", namespace: "team-a", role: "configmap-creator", subjects: Self.user("hana"))
        XCTAssertEqual(apply("inventory", "1").status, 201)
        XCTAssertEqual(apply("other", "1").status, 403)
    }

    func testServiceAccountsFindTheIssuersKeysAndTokensVerifyWithThem() throws {
        let account: JSON = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "relying"]]
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/team-a/serviceaccounts", json: account).status, 201)
        let issued = cluster.request("POST", "/api/v1/namespaces/team-a/serviceaccounts/relying/token",
                                     json: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]])
        XCTAssertEqual(issued.status, 201, issued.text)
        let token = try XCTUnwrap(issued.json.at("status", "token")?.stringValue)
        let discovery = cluster.request("GET", "/.well-known/openid-configuration", token: token)
        XCTAssertEqual(discovery.status, 200, discovery.text)
        XCTAssertEqual(discovery.json["issuer"], .string(ServiceAccountTokenIssuer.issuer))
        XCTAssertEqual(discovery.json["id_token_signing_alg_values_supported"], ["ES256"])
        let keys = cluster.request("GET", "/openid/v1/jwks", token: token)
        XCTAssertEqual(keys.headers["content-type"], "application/jwk-set+json")
        let key = try JWTVerificationKey(jwk: try XCTUnwrap(keys.json["keys"]?.arrayValue?.first))
        let verified = try JWT.verify(token, keys: [key])
        XCTAssertEqual(verified.claims["sub"], "system:serviceaccount:team-a:relying")
        XCTAssertEqual(cluster.request("GET", "/openid/v1/jwks", token: try self.token("alice")).status, 403, "for ServiceAccounts, as in kube")
    }

    func testAccessReviewsGiveRBACsReasonAndRefuseIncompleteSpecs() throws {
        clusterRole("cm-reader", [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]]])
        bind("readers", namespace: "team-a", role: "cm-reader", subjects: [["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "readers"]])
        let review = cluster.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", json: [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": ["user": "ivy", "groups": ["readers"], "resourceAttributes": ["verb": "get", "resource": "configmaps", "namespace": "team-a"]],
        ])
        XCTAssertEqual(review.status, 201, review.text)
        XCTAssertEqual(review.json["kind"], "SubjectAccessReview")
        XCTAssertEqual(review.json.at("status"), ["allowed": true, "reason": #"RBAC: allowed by RoleBinding "readers/team-a" of ClusterRole "cm-reader" to Group "readers""#])
        // The local form takes its namespace from the path.
        let local = cluster.request("POST", "/apis/authorization.k8s.io/v1/namespaces/team-b/localsubjectaccessreviews", json: [
            "apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
            "spec": ["user": "ivy", "groups": ["readers"], "resourceAttributes": ["verb": "get", "resource": "configmaps"]],
        ])
        XCTAssertEqual(local.status, 201, local.text)
        XCTAssertEqual(local.json.at("status"), ["allowed": false])
        let nobody = cluster.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", json: [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": ["resourceAttributes": ["verb": "get", "resource": "pods"]],
        ])
        XCTAssertEqual(nobody.status, 422)
        XCTAssertEqual(nobody.json["message"], #"SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified"#)
        let both = cluster.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json: [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": [:],
        ])
        XCTAssertEqual(both.status, 422, both.text)
        XCTAssertEqual(cluster.request("GET", "/apis/authorization.k8s.io/v1/subjectaccessreviews").status, 405, "reviews are created, never read")
        // Reviewing others is not for everyone.
        let denied = cluster.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", json: review.json, token: try token("ivy", "readers"))
        XCTAssertEqual(denied.status, 403)
    }

    func testATokenBoundToASecretEndsWithItAndServiceAccountsCanBeImpersonated() throws {
        create("/api/v1/namespaces/team-a/serviceaccounts", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "ci"]])
        create("/api/v1/namespaces/team-a/secrets", ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "ci-binding"], "stringData": ["a": "b"]])
        let issued = cluster.request("POST", "/api/v1/namespaces/team-a/serviceaccounts/ci/token", json: [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": ["boundObjectRef": ["kind": "Secret", "apiVersion": "v1", "name": "ci-binding"], "expirationSeconds": 900],
        ])
        XCTAssertEqual(issued.status, 201, issued.text)
        XCTAssertEqual(issued.json.at("spec", "expirationSeconds"), 900)
        XCTAssertNotNil(issued.json.at("spec", "boundObjectRef", "uid")?.stringValue, "the answer names the bound object's uid")
        let token = try XCTUnwrap(issued.json.at("status", "token")?.stringValue)
        let whoami: JSON = ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"]
        XCTAssertEqual(cluster.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", json: whoami, token: token).status, 201)

        // Asking for a token is `create` on serviceaccounts/token, which a ServiceAccount lacks.
        let selfIssued = cluster.request("POST", "/api/v1/namespaces/team-a/serviceaccounts/ci/token",
                                         json: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]], token: token)
        XCTAssertEqual(selfIssued.status, 403)
        XCTAssertEqual(selfIssued.json["message"], #"serviceaccounts "ci" is forbidden: User "system:serviceaccount:team-a:ci" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team-a""#)
        XCTAssertEqual(cluster.request("DELETE", "/api/v1/namespaces/team-a/secrets/ci-binding").status, 200)
        XCTAssertEqual(cluster.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", json: whoami, token: token).status, 401)

        let wrongKind = cluster.request("POST", "/api/v1/namespaces/team-a/serviceaccounts/ci/token", json: [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": ["boundObjectRef": ["kind": "ServiceAccount", "name": "ci"]],
        ])
        XCTAssertEqual(wrongKind.status, 422, "only Pods and Secrets bind tokens")

        let asAccount = TestHTTP.send("POST", cluster.server.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews", body: Data(whoami.compactText.utf8),
                                      contentType: "application/json", token: cluster.server.token, headers: ["Impersonate-User": "system:serviceaccount:team-a:ci"])
        XCTAssertEqual(asAccount.status, 201, asAccount.text)
        XCTAssertEqual(asAccount.json.at("status", "userInfo", "groups"), ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"])
    }

    func testLeasesRefuseAStaleResourceVersion() throws {
        let lease: JSON = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "leader"],
                           "spec": ["holderIdentity": "replica-1", "leaseDurationSeconds": 15]]
        let created = cluster.request("POST", "/apis/coordination.k8s.io/v1/namespaces/team-a/leases", json: lease)
        XCTAssertEqual(created.status, 201, created.text)
        var renewed = created.json
        renewed.updateObject { object in object["spec"] = ["holderIdentity": "replica-2", "leaseDurationSeconds": 15] }
        let first = cluster.request("PUT", "/apis/coordination.k8s.io/v1/namespaces/team-a/leases/leader", json: renewed)
        XCTAssertEqual(first.status, 200, first.text)
        // A second replica still holding the first version loses the race.
        let second = cluster.request("PUT", "/apis/coordination.k8s.io/v1/namespaces/team-a/leases/leader", json: renewed)
        XCTAssertEqual(second.status, 409)
        XCTAssertEqual(second.json["reason"], "Conflict")
        XCTAssertEqual(second.json["message"], "Operation cannot be fulfilled on leases.coordination.k8s.io \"leader\": the object has been modified; please apply your changes to the latest version and try again")
        XCTAssertEqual(cluster.request("GET", "/apis/coordination.k8s.io/v1/namespaces/team-a/leases/leader").json.at("spec", "holderIdentity"), "replica-2")
        let discovery = cluster.request("GET", "/apis/coordination.k8s.io/v1").json
        XCTAssertEqual(discovery["resources"]?.arrayValue?.first?["name"], "leases")
    }
}
