import Access
import ApplyTestSupport
import Foundation
import LocalCluster
import Model
import Reconciler
import Support
import TestSupport
import XCTest

/// Machines through TokenReview and everyone through SubjectAccessReview, against a local cluster
/// into which the example tenants were reconciled (their rendered Roles and RoleBindings decide).
final class ClusterAccessTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws {
        cluster = try TestAPIServer()
        let result = try Reconciler(client: try cluster.client()).reconcile(Reconciler.desired(try Examples.rendered()), frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
    }

    override func tearDown() { cluster = nil }

    private func serviceAccount(_ name: String, in namespace: String) throws {
        _ = try cluster.client().apply(["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(name), "namespace": .string(namespace)]])
    }

    private func refusal(_ body: () throws(AuthenticationError) -> Caller) -> AuthenticationError? {
        do { _ = try body(); return nil } catch { return error }
    }

    // MARK: - TokenReview

    func testAServiceAccountTokenForTheAPIAudienceAuthenticatesThroughTokenReviewAndIsCached() throws {
        try serviceAccount("ci-bot", in: "payments-prod")
        let reviewer = TokenReviewer(client: try cluster.client())
        let token = try cluster.server.serviceAccountTokens.issue(namespace: "payments-prod", serviceAccount: "ci-bot", audiences: ["tenantry"]).token
        let caller = try reviewer.authenticate(token)
        XCTAssertEqual(caller.user, "system:serviceaccount:payments-prod:ci-bot")
        XCTAssertEqual(caller.method, .kubernetes)
        XCTAssertTrue(caller.groups.contains("system:serviceaccounts:payments-prod"), "\(caller.groups)")
        XCTAssertTrue(caller.groups.contains("system:authenticated"))
        XCTAssertFalse(caller.uid.isEmpty)
        XCTAssertNotNil(caller.extra["authentication.kubernetes.io/credential-id"])
        XCTAssertEqual(try reviewer.authenticate(token), caller)
        XCTAssertEqual(reviewer.statistics.hits, 1, "the second use is answered from the cache")

        // The same account's token for the Kubernetes API's audience is not for this API.
        let apiToken = try cluster.server.serviceAccountTokens.issue(namespace: "payments-prod", serviceAccount: "ci-bot").token
        XCTAssertEqual(refusal { () throws(AuthenticationError) in try reviewer.authenticate(apiToken) }?.code, .invalidToken)
        // Garbage is refused, and the refusal is cached too (negative entries).
        let garbage = refusal { () throws(AuthenticationError) in try reviewer.authenticate("not-a-token") }
        XCTAssertTrue(garbage?.message.contains("did not authenticate") ?? false, garbage?.message ?? "")
        _ = refusal { () throws(AuthenticationError) in try reviewer.authenticate("not-a-token") }
        XCTAssertEqual(reviewer.statistics.hits, 2)
    }

    func testTheLocalClustersUserTokensWorkWhenTheAPIAudienceIsConfigured() throws {
        let token = try UserTokens.mint(directory: cluster.directory, user: "sam@acme.example", groups: ["payments-engineers"], validForSeconds: 600)
        let strict = Authenticator(issuers: [], tokenReviewer: TokenReviewer(client: try cluster.client()))
        XCTAssertEqual(refusal { () throws(AuthenticationError) in try strict.authenticate(authorization: "Bearer \(token)") }?.code, .invalidToken)
        let embedded = TokenReviewer(client: try cluster.client(),
                                     configuration: KubernetesTokenConfiguration(audiences: ["tenantry", ServiceAccountTokenIssuer.issuer]))
        let caller = try Authenticator(issuers: [], tokenReviewer: embedded).authenticate(authorization: "Bearer \(token)")
        XCTAssertEqual(caller.user, "sam@acme.example")
        XCTAssertEqual(caller.groups, ["payments-engineers", "system:authenticated"])
    }

    // MARK: - SubjectAccessReview

    private func person(_ user: String, _ groups: [String]) -> Caller {
        Caller(user: user, groups: groups + ["system:authenticated"], method: .oidc(issuer: "https://login.acme.example"))
    }

    func testTheRenderedRolesDecide() throws {
        let reviewer = AccessReviewer(client: try cluster.client())
        let viewer = person("ola@acme.example", ["payments-engineers-oncall"])
        let editor = person("sam@acme.example", ["payments-engineers"])
        let contractor = person("contractor.li@partner.example", [])
        func allowed(_ caller: Caller, _ action: SessionAction, _ namespace: String) throws -> Bool {
            try reviewer.authorize(caller, AccessRequest(action, namespace: namespace)).allowed
        }
        XCTAssertTrue(try allowed(viewer, .list, "payments-prod"))
        XCTAssertTrue(try allowed(viewer, .get, "payments-prod"))
        XCTAssertFalse(try allowed(viewer, .create, "payments-prod"), "a viewer cannot create")
        XCTAssertFalse(try allowed(viewer, .stop, "payments-prod"))
        XCTAssertFalse(try allowed(viewer, .list, "payments-staging"), "oncall views payments-prod only")
        XCTAssertTrue(try allowed(editor, .create, "payments-prod"), "an editor can")
        XCTAssertTrue(try allowed(editor, .stop, "payments-staging"))
        XCTAssertTrue(try allowed(editor, .rerun, "payments-prod"))
        XCTAssertFalse(try allowed(editor, .list, "docs"), "another tenant's namespace")
        XCTAssertFalse(try allowed(editor, .list, "no-such-namespace"))
        XCTAssertTrue(try allowed(contractor, .create, "payments-staging"), "a member named by user")
        XCTAssertFalse(try allowed(contractor, .get, "payments-prod"))

        // The 403 says the same for another tenant's namespace and for one that does not exist.
        let other = AccessRequest(.list, namespace: "docs").forbiddenMessage(user: editor.user)
        let missing = AccessRequest(.list, namespace: "no-such-namespace").forbiddenMessage(user: editor.user)
        XCTAssertEqual(other, #"sessions.ambient.ai is forbidden: User "sam@acme.example" cannot list resource "sessions" in API group "ambient.ai" in the namespace "docs""#)
        XCTAssertEqual(other.replacingOccurrences(of: "docs", with: "no-such-namespace"), missing)
    }

    func testApproveIsItsOwnVerbAndDecisionsAreCached() throws {
        // The sessions branch renders tenantry:approver (verb approve on sessions); until it is merged
        // here, the same rule as a Role of the namespace.
        let client = try cluster.client()
        _ = try client.apply(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                              "metadata": ["name": "session-approver", "namespace": "payments-prod"],
                              "rules": [["apiGroups": ["ambient.ai"], "resources": ["sessions"], "verbs": ["approve"]]]])
        _ = try client.apply(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                              "metadata": ["name": "session-approvers", "namespace": "payments-prod"],
                              "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "session-approver"],
                              "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "payments-approvers"]]])
        let reviewer = AccessReviewer(client: client, configuration: AuthorizationCacheConfiguration(allowedTTL: 60, deniedTTL: 60))
        let approver = person("lee@acme.example", ["payments-engineers", "payments-approvers"])
        let editor = person("sam@acme.example", ["payments-engineers"])
        let request = AccessRequest(.approve, namespace: "payments-prod", session: "fix-login")
        XCTAssertEqual(request.verb, "approve")
        XCTAssertTrue(try reviewer.authorize(approver, request).allowed, "an approver approves")
        XCTAssertTrue(try reviewer.authorize(approver, AccessRequest(.reject, namespace: "payments-prod")).allowed)
        XCTAssertFalse(try reviewer.authorize(editor, request).allowed, "a plain editor cannot")
        XCTAssertFalse(try reviewer.authorize(approver, AccessRequest(.approve, namespace: "payments-staging")).allowed)
        XCTAssertEqual(reviewer.statistics.misses, 4)

        // Cached both ways: the answers stay for their lifetime even after the binding goes.
        XCTAssertTrue(try client.delete(ObjectReference(apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", namespace: "payments-prod", name: "session-approvers")))
        XCTAssertTrue(try reviewer.authorize(approver, request).allowed)
        XCTAssertFalse(try reviewer.authorize(editor, request).allowed)
        XCTAssertEqual(reviewer.statistics.hits, 2)
        // A fresh reviewer asks again and the cluster now says no.
        XCTAssertFalse(try AccessReviewer(client: client).authorize(approver, request).allowed)
        // Past its lifetime the cached answer is asked again.
        XCTAssertFalse(try reviewer.authorize(approver, request, now: Date().addingTimeInterval(61)).allowed)
    }

    // MARK: - /user/namespaces

    func testNamespacePermissionsAgreeWithSubjectAccessReviewsForEveryExampleMember() throws {
        let client = try cluster.client()
        let permissions = NamespacePermissions(client: client)
        let reviewer = AccessReviewer(client: client)
        let namespaces = try Examples.rendered().tenants.compactMap(\.tenant).flatMap { $0.namespaces.map(\.name) }.sorted()
        XCTAssertTrue(namespaces.contains("payments-prod") && namespaces.contains("docs"), "\(namespaces)")
        let callers = [
            person("sam@acme.example", ["payments-engineers"]), person("ola@acme.example", ["payments-engineers-oncall"]),
            person("lee@acme.example", ["payments-leads"]), person("contractor.li@partner.example", []), person("nobody@acme.example", []),
        ]
        for caller in callers {
            let listed = try permissions.permissions(of: caller, in: namespaces)
            for namespace in namespaces {
                let mayList = try reviewer.authorize(caller, AccessRequest(.list, namespace: namespace)).allowed
                let mayCreate = try reviewer.authorize(caller, AccessRequest(.create, namespace: namespace)).allowed
                let level = listed[namespace]?.level
                XCTAssertEqual(level != nil, mayList, "\(caller.user) in \(namespace)")
                XCTAssertEqual(level.map { $0 >= .editor } ?? false, mayCreate, "\(caller.user) in \(namespace)")
            }
        }
        XCTAssertEqual(try permissions.permissions(of: callers[0], in: namespaces),
                       ["payments-prod": NamespacePermission(level: .editor, canApprove: false),
                        "payments-staging": NamespacePermission(level: .editor, canApprove: false)])
        XCTAssertEqual(try permissions.permissions(of: callers[1], in: namespaces), ["payments-prod": NamespacePermission(level: .viewer, canApprove: false)])
        XCTAssertEqual(try permissions.permissions(of: callers[2], in: namespaces)["payments-prod"]?.level, .admin)
        XCTAssertEqual(try permissions.permissions(of: callers[3], in: namespaces), ["payments-staging": NamespacePermission(level: .editor, canApprove: false)])
        XCTAssertEqual(try permissions.permissions(of: callers[4], in: namespaces), [:])
    }

    func testNamespacePermissionsSeeANewBindingOnceTheSnapshotIsOlderThanItsMaxAge() throws {
        let client = try cluster.client()
        let permissions = NamespacePermissions(client: client, maxAge: 10)
        let approver = person("ana@acme.example", ["payments-approvers"])
        let start = Date()
        XCTAssertEqual(try permissions.permissions(of: approver, in: ["payments-prod"], now: start), [:])
        _ = try client.apply(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "test:approver"],
                              "rules": [["apiGroups": ["ambient.ai"], "resources": ["sessions"], "verbs": ["approve"]]]])
        _ = try client.apply(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                              "metadata": ["name": "approvers", "namespace": "payments-prod"],
                              "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "test:approver"],
                              "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "payments-approvers"]]])
        XCTAssertEqual(try permissions.permissions(of: approver, in: ["payments-prod"], now: start.addingTimeInterval(5)), [:], "still the old snapshot")
        XCTAssertEqual(try permissions.permissions(of: approver, in: ["payments-prod", "payments-staging"], now: start.addingTimeInterval(11)),
                       ["payments-prod": NamespacePermission(level: nil, canApprove: true)])
    }

    // MARK: - The gate every endpoint passes

    func testTheGateAnswersInTheContractsErrorShapeAndTheSame403WhetherTheNamespaceExistsOrNot() throws {
        let client = try cluster.client()
        let reviewer = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: ["tenantry", ServiceAccountTokenIssuer.issuer]))
        let gate = AccessGate(authenticator: Authenticator(issuers: [], tokenReviewer: reviewer), reviewer: AccessReviewer(client: client))
        func bearer(_ user: String, _ groups: [String]) throws -> String {
            "Bearer " + (try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600))
        }
        let viewer = try bearer("ola@acme.example", ["payments-engineers-oncall"])
        let editor = try bearer("sam@acme.example", ["payments-engineers"])
        let spec = try XCTUnwrap(try YAML.parseDocument(Array(try Data(contentsOf: URL(fileURLWithPath: SessionsContractTests.path))))?.json)
        let codes = spec["components"]?["schemas"]?["Error"]?["properties"]?["error"]?["enum"]?.arrayValue ?? []
        func failure(_ result: Result<Caller, AccessFailure>, file: StaticString = #filePath, line: UInt = #line) -> AccessFailure? {
            guard case .failure(let failure) = result else { XCTFail("admitted", file: file, line: line); return nil }
            let body = failure.body(traceID: "trace-1")
            for field in ["error", "message", "details", "traceId"] { XCTAssertNotNil(body[field], field, file: file, line: line) }
            XCTAssertTrue(codes.contains(.string(failure.error)), "\(failure.error) is not in the contract", file: file, line: line)
            return failure
        }

        let missing = failure(gate.admit(authorization: nil, .list, namespace: "payments-prod"))
        XCTAssertEqual(missing?.status, 401)
        XCTAssertEqual(missing?.error, "unauthenticated")
        XCTAssertEqual(missing?.headers["WWW-Authenticate"], "Bearer realm=\"tenantry\"")
        let bad = failure(gate.admit(authorization: "Bearer nonsense", .list, namespace: "payments-prod"))
        XCTAssertEqual(bad?.status, 401)
        XCTAssertEqual(bad?.error, "invalid_token")

        XCTAssertEqual(try gate.admit(authorization: viewer, .list, namespace: "payments-prod").get().user, "ola@acme.example")
        let viewerCreate = failure(gate.admit(authorization: viewer, .create, namespace: "payments-prod"))
        XCTAssertEqual(viewerCreate?.status, 403)
        XCTAssertEqual(viewerCreate?.error, "forbidden")
        XCTAssertEqual(try gate.admit(authorization: editor, .create, namespace: "payments-prod").get().user, "sam@acme.example")

        let otherTenant = failure(gate.admit(authorization: editor, .get, namespace: "docs", session: "s-1"))
        let nowhere = failure(gate.admit(authorization: editor, .get, namespace: "no-such-ns", session: "s-1"))
        XCTAssertEqual(otherTenant?.status, 403)
        XCTAssertEqual(otherTenant?.message.replacingOccurrences(of: "\"docs\"", with: "\"no-such-ns\""), nowhere?.message)
        XCTAssertEqual(otherTenant?.message, #"sessions.ambient.ai "s-1" is forbidden: User "sam@acme.example" cannot get resource "sessions" in API group "ambient.ai" in the namespace "docs""#)

        let invalid = failure(gate.admit(authorization: editor, .list, namespace: "Payments_Prod"))
        XCTAssertEqual(invalid?.status, 400)
        XCTAssertEqual(invalid?.error, "invalid_namespace")
    }
}
