import Foundation
import Model
import Render
import TestSupport
import XCTest

/// `policy.notifications.signingSecret` names a Secret; its value never comes from git.
final class NotificationSecretTests: XCTestCase {
    private func tenant(_ secret: String) -> String {
        TempRepo.tenant("alpha") + """
          notifications:
            signingSecret: \(secret)
            webhooks:
              - url: https://hooks.example.com/x
                events: [session.completed, budget.threshold]

        """
    }

    func testASecretNameIsReadAndRendered() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", tenant("alpha-notifications"))
        let alpha = try XCTUnwrap(try repo.validate().tenants.first { $0.name == "alpha" })
        XCTAssertEqual(alpha.messages, [])
        XCTAssertEqual(alpha.tenant?.policy.notificationSecret, "alpha-notifications")
        XCTAssertEqual(alpha.tenant?.policy.notifications.first?.events, ["session.completed", "budget.threshold"])
    }

    func testAnInvalidSecretNameNamesFileLineAndField() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", tenant("Not_A-Secret"))
        let alpha = try XCTUnwrap(try repo.validate().tenants.first { $0.name == "alpha" })
        XCTAssertFalse(alpha.isValid)
        XCTAssertEqual(alpha.messages.count, 1, "\(alpha.messages)")
        XCTAssertTrue(alpha.messages[0].hasPrefix("tenants/alpha.yaml:15:20: policy.notifications.signingSecret: \"Not_A-Secret\" is not a valid Secret name"),
                      alpha.messages[0])
    }
}

/// Where a policy names a signing Secret, the session controller may `get` that one Secret in each of the tenant's
/// namespaces (a Role by `resourceNames`, bound to `platform.yaml` `controller.serviceAccount`); nowhere else.
final class SigningSecretRoleTests: XCTestCase {
    private func objects(_ repo: TempRepo, _ namespace: String) throws -> [JSONObject] {
        try repo.render().manifests.filter { $0.reference.namespace == namespace && $0.reference.name == "tenantry-signing-secret" }.map(\.object)
    }

    func testTheRoleGrantsGetOnExactlyTheNamedSecretToTheDeployServiceAccount() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha", namespaces: ["alpha-dev", "alpha-prod"]) + """
              notifications:
                signingSecret: alpha-notifications

            """)
        for namespace in ["alpha-dev", "alpha-prod"] {
            let rendered = try objects(repo, namespace)
            XCTAssertEqual(rendered.map { $0["kind"]?.stringValue }, ["Role", "RoleBinding"], namespace)
            XCTAssertEqual(rendered[0]["rules"], [["apiGroups": [""], "resources": ["secrets"], "resourceNames": ["alpha-notifications"], "verbs": ["get"]]])
            XCTAssertEqual(rendered[1]["roleRef"], ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenantry-signing-secret"])
            XCTAssertEqual(rendered[1]["subjects"], [["kind": "ServiceAccount", "name": "tenantry", "namespace": "tenantry-system"]])
        }
    }

    func testTheRoleAndBindingPassStrictValidationAgainstKubernetes132() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha") + "  notifications:\n    signingSecret: alpha-notifications\n")
        let manifests = try repo.render().manifests.filter { $0.reference.name == "tenantry-signing-secret" }
        XCTAssertEqual(manifests.count, 2)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("signing-role-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(ManifestWriter.write(manifests, as: .yaml).utf8).write(to: file)
        let result = try Tool.run("kubernetes-validate", ["--strict", "--kubernetes-version", "1.32.0", "--quiet", "--no-warn", file.path])
        XCTAssertEqual(result.code, 0, result.output)
    }

    func testNoSigningSecretNoRole() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha"))
        XCTAssertEqual(try objects(repo, "alpha"), [])
        // The runner's own Role reads Sessions and never writes their status (the controller is its one writer).
        let runner = try XCTUnwrap(try repo.render().manifests.first { $0.reference.kind == "Role" && $0.reference.name == "session-runner" })
        let resources = runner.object["rules"]?.arrayValue?.flatMap { $0["resources"]?.arrayValue ?? [] } ?? []
        XCTAssertFalse(resources.contains("sessions/status"), "\(resources)")
        XCTAssertFalse(resources.contains("secrets"), "\(resources)")
    }

    func testPlatformYamlNamesTheControllerServiceAccount() throws {
        let repo = try TempRepo(platform: TempRepo.platform + "controller:\n  serviceAccount: {namespace: platform-system, name: sessions}\n")
        try repo.write("tenants/alpha.yaml", TempRepo.tenant("alpha") + "  notifications:\n    signingSecret: alpha-notifications\n")
        XCTAssertEqual(try repo.validate().platform.controllerServiceAccount, ServiceAccountReference(namespace: "platform-system", name: "sessions"))
        let binding = try XCTUnwrap(try objects(repo, "alpha").last)
        XCTAssertEqual(binding["subjects"], [["kind": "ServiceAccount", "name": "sessions", "namespace": "platform-system"]])
        XCTAssertEqual(try TempRepo().validate().platform.controllerServiceAccount, .deployDefault)
    }

    func testABadServiceAccountNamesTheField() throws {
        let repo = try TempRepo(platform: TempRepo.platform + "controller:\n  serviceAccount: {namespace: Bad_NS, name: tenantry}\n")
        XCTAssertThrowsError(try repo.validate()) { error in
            let messages = (error as? RepoError)?.diagnostics.map(\.description) ?? []
            XCTAssertEqual(messages.count, 1, "\(messages)")
            XCTAssertTrue(messages.first?.contains("controller.serviceAccount.namespace: \"Bad_NS\" is not a valid name") == true, "\(messages)")
        }
    }
}

/// `platform.yaml` `notifications:` says where notifications may go.
final class NotificationAddressesTests: XCTestCase {
    func testTheDefaultsAndTheGivenLists() throws {
        XCTAssertEqual(try TempRepo().validate().platform.notificationAddresses, NotificationAddresses())
        let repo = try TempRepo(platform: TempRepo.platform + "notifications:\n  denyCIDRs: [10.0.0.0/8]\n  allowCIDRs: [10.20.0.0/16]\n")
        XCTAssertEqual(try repo.validate().platform.notificationAddresses, NotificationAddresses(deny: ["10.0.0.0/8"], allow: ["10.20.0.0/16"]))
    }

    func testABadCIDRNamesFileLineAndField() throws {
        let repo = try TempRepo(platform: TempRepo.platform + "notifications:\n  denyCIDRs: [10.0.0.0/99]\n")
        XCTAssertThrowsError(try repo.validate()) { error in
            let messages = (error as? RepoError)?.diagnostics.map(\.description) ?? []
            XCTAssertEqual(messages.count, 1, "\(messages)")
            XCTAssertTrue(messages.first?.contains("notifications.denyCIDRs") == true && messages.first?.contains("\"10.0.0.0/99\" is not a CIDR") == true, "\(messages)")
        }
    }
}
