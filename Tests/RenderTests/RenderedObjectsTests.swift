import Foundation
import Model
import Render
import Support
import TestSupport
import XCTest

/// What the example repo renders into, object by object.
final class RenderedObjectsTests: XCTestCase {
    private var rendered: RenderedRepo!

    override func setUpWithError() throws {
        rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(PackagePaths.examples.path)))
    }

    private func object(_ kind: String, _ namespace: String?, _ name: String) throws -> JSONObject {
        try XCTUnwrap(rendered.manifests.first {
            $0.reference.kind == kind && $0.reference.namespace == namespace && $0.reference.name == name
        }?.object, "\(kind)/\(namespace ?? "")/\(name)")
    }

    func testEveryObjectCarriesOwnershipLabelsAndAContentHashThatMatchesIt() {
        for manifest in rendered.manifests {
            let metadata = manifest.object["metadata"]?.objectValue
            let labels = metadata?["labels"]?.objectValue
            XCTAssertEqual(labels?[ManagedBy.managedByLabel], "tenantry", "\(manifest.reference)")
            XCTAssertEqual(labels?[ManagedBy.tenantLabel], .string(manifest.owner), "\(manifest.reference)")
            var unhashed = manifest.object
            var bare = metadata!
            bare["annotations"] = nil
            unhashed["metadata"] = .object(bare)
            let expected = "sha256:" + Crypto.sha256Hex(Array(JSON.object(unhashed).compactText.utf8))
            XCTAssertEqual(metadata?["annotations"]?[ManagedBy.contentHashAnnotation], .string(expected), "\(manifest.reference)")
        }
    }

    func testObjectsAreOrderedForApply() {
        let kinds = rendered.manifests.map(\.reference.kind)
        XCTAssertEqual(Array(kinds.prefix(5)), ["CustomResourceDefinition", "CustomResourceDefinition", "ClusterRole", "ClusterRole", "ClusterRole"])
        for tenant in rendered.tenants {
            let ranks = tenant.manifests.map { Renderer.applyRank($0.reference.kind) }
            XCTAssertEqual(ranks, ranks.sorted(), tenant.name)
            XCTAssertEqual(tenant.manifests.first?.reference.kind, "Namespace")
        }
    }

    func testEachNamespaceGetsItsFullSetOfObjects() {
        let objects = rendered.manifests.filter { $0.reference.namespace == "payments-staging" }.map { "\($0.reference.kind)/\($0.reference.name)" }
        XCTAssertEqual(objects, [
            "ServiceAccount/session-runner", "Role/session-runner",
            "RoleBinding/session-runner", "RoleBinding/tenantry-admins", "RoleBinding/tenantry-approvers", "RoleBinding/tenantry-editors",
            "ResourceQuota/tenant-quota", "LimitRange/tenant-limits",
            "NetworkPolicy/allow-dns", "NetworkPolicy/allow-runner-egress", "NetworkPolicy/allow-same-namespace", "NetworkPolicy/default-deny",
            "NamespacePolicy/policy",
        ])
    }

    func testRoleBindingsFollowMembersAndTheirNamespaceScopes() throws {
        let editors = try object("RoleBinding", "payments-staging", "tenantry-editors")
        XCTAssertEqual(editors["roleRef"], ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tenantry:editor"])
        XCTAssertEqual(editors["subjects"], [
            ["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "payments-engineers"],
            ["kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "contractor.li@partner.example"],
        ])
        let prodEditors = try object("RoleBinding", "payments-prod", "tenantry-editors")
        XCTAssertEqual(prodEditors["subjects"]?.arrayValue?.count, 1, "the contractor is scoped to staging only")
        let viewers = rendered.manifests.filter { $0.reference.kind == "RoleBinding" && $0.reference.name == "tenantry-viewers" }
        XCTAssertEqual(viewers.map(\.reference.namespace), ["payments-prod", "support-agents"], "on-call viewers are scoped to prod")
    }

    func testApproverGroupsMayApproveSessionsInEachNamespaceAndNowhereElse() throws {
        let role = try object("ClusterRole", nil, "tenantry:approver")
        XCTAssertEqual(role["rules"], [["apiGroups": ["ambient.ai"], "resources": ["sessions"], "verbs": ["approve"]]])
        for namespace in ["payments-prod", "payments-staging"] {
            let binding = try object("RoleBinding", namespace, "tenantry-approvers")
            XCTAssertEqual(binding["roleRef"], ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tenantry:approver"])
            XCTAssertEqual(binding["subjects"], [["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "payments-leads"]])
        }
        let bound = rendered.manifests.filter { $0.reference.name == "tenantry-approvers" }.map { $0.reference.namespace ?? "" }
        XCTAssertEqual(bound, ["payments-prod", "payments-staging"], "tenants without approvers get no binding")
    }

    func testQuotasLayerPlatformTenantAndNamespaceValues() throws {
        let prod = try object("ResourceQuota", "payments-prod", "tenant-quota")
        XCTAssertEqual(prod["spec"]?["hard"], ["count/sessions.ambient.ai": "20", "pods": "30", "requests.cpu": "16", "requests.memory": "32Gi"])
        let staging = try object("ResourceQuota", "payments-staging", "tenant-quota")
        XCTAssertEqual(staging["spec"]?["hard"], ["count/sessions.ambient.ai": "50", "pods": "30", "requests.cpu": "8", "requests.memory": "16Gi"])
    }

    func testTheNamespacePolicyCarriesThePolicyAndOnlyItsOwnKeyHashes() throws {
        let spec = try XCTUnwrap(try object("NamespacePolicy", "payments-staging", "policy")["spec"])
        XCTAssertEqual(spec["models"]?["budget"], ["monthly": "5000.00", "currency": "USD"])
        XCTAssertEqual(spec["models"]?["blocked"], ["claude-haiku-4-5"])
        XCTAssertEqual(spec["approval"], ["required": true, "approvers": ["payments-leads"]])
        XCTAssertEqual(spec["retention"], ["sessions": "180d", "artifacts": "30d", "auditLogs": "10y"])
        XCTAssertEqual(spec["webhookAuth"], ["apiKeys": ["github": "sha256:6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"]])
        XCTAssertEqual(spec["routing"]?["github"], ["acme/payments-web"])
        XCTAssertEqual(spec["runner"]?["image"], "ghcr.io/acme/runners/claude-code:1.5.2")
    }

    func testTheCRDsDeclareAStatusSubresourceAndASchema() throws {
        for name in ["sessions.ambient.ai", "namespacepolicies.ambient.ai"] {
            let version = try XCTUnwrap(try object("CustomResourceDefinition", nil, name)["spec"]?["versions"]?.arrayValue?.first)
            XCTAssertEqual(version["subresources"], ["status": [:]])
            XCTAssertEqual(version["schema"]?["openAPIV3Schema"]?["type"], "object")
            XCTAssertNotNil(version["schema"]?["openAPIV3Schema"]?["properties"]?["spec"]?["properties"])
        }
    }

    func testTheNamespaceEnforcesPodSecurity() throws {
        let labels = try object("Namespace", nil, "docs")["metadata"]?["labels"]
        XCTAssertEqual(labels?["pod-security.kubernetes.io/enforce"], "restricted")
    }
}
