import Foundation
import LocalCluster
import Model
import XCTest

/// Identity through the real kubectl over TLS: `auth whoami`, `auth can-i` (with `--as`, `--list`),
/// `create token`, bound tokens dying with their pod, TokenReview, and the cluster's files.
final class IdentityKubectlTests: XCTestCase {
    var cluster: TestCluster!
    var kubectl: Kubectl!

    override func setUpWithError() throws {
        kubectl = try XCTUnwrap(Kubectl.find(), "kubectl is required (scripts/setup.sh installs it)")
        cluster = try TestCluster(tls: true)
    }

    override func tearDown() { cluster?.stop() }

    private func run(_ arguments: String...) -> Kubectl.Result { run(arguments) }

    private func run(_ arguments: [String]) -> Kubectl.Result {
        kubectl.run(["--kubeconfig", cluster.server.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache"] + arguments)
    }

    /// kubectl with another bearer token in place of the kubeconfig's.
    private func run(token: String, _ arguments: String...) -> Kubectl.Result { run(["--token", token] + arguments) }

    /// `kubectl create -f` of one object, answered as JSON (how a review is posted with kubectl).
    private func create(_ object: JSON) throws -> JSON {
        let path = cluster.directory + "/object-\(UUID().uuidString).json"
        try object.compactText.write(toFile: path, atomically: true, encoding: .utf8)
        let result = run("create", "-f", path, "-o", "json")
        XCTAssertEqual(result.status, 0, result.stderr)
        return (try? JSON(parsing: result.stdout)) ?? .null
    }

    private func tokenReview(_ token: String, audiences: [String] = []) throws -> JSON {
        try create(["apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": .string(token), "audiences": .strings(audiences)]])
    }

    /// What `tenantry cluster token --duration 10m` prints (the command itself: CommandsTests' ClusterCommandTests).
    private func mint(_ user: String, groups: [String] = []) throws -> String {
        try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 600)
    }

    func testWhoAmIForTheAdminAServiceAccountAndAMintedUser() throws {
        let admin = run("auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
        XCTAssertEqual(admin.status, 0, admin.stderr)
        XCTAssertEqual(admin.stdout, #"tenantry-admin ["system:masters","system:authenticated"]"#)

        XCTAssertEqual(run("create", "serviceaccount", "bot").status, 0)
        let created = run("create", "token", "bot")
        XCTAssertEqual(created.status, 0, created.stderr)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let bot = run(token: token, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
        XCTAssertEqual(bot.status, 0, bot.stderr)
        XCTAssertEqual(bot.stdout, #"system:serviceaccount:default:bot ["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"]"#)

        let user = run(token: try mint("maria@acme.example", groups: ["docs-admins", "leads"]), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
        XCTAssertEqual(user.status, 0, user.stderr)
        XCTAssertEqual(user.stdout, #"maria@acme.example ["docs-admins","leads","system:authenticated"]"#)

        let refused = run(token: "not-a-token", "get", "configmaps")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("You must be logged in to the server"), refused.stderr)
    }

    func testCreateTokenIsAJWTWithKubernetesClaims() throws {
        XCTAssertEqual(run("create", "serviceaccount", "bot").status, 0)
        let created = run("create", "token", "bot", "--duration", "20m", "--audience", "vault", "--audience", ServiceAccountTokenIssuer.issuer)
        XCTAssertEqual(created.status, 0, created.stderr)
        let parts = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        let header = try JSON(parsing: Data(try XCTUnwrap(base64URL(parts[0]))))
        XCTAssertEqual(header["alg"], "ES256")
        let claims = try JSON(parsing: Data(try XCTUnwrap(base64URL(parts[1]))))
        XCTAssertEqual(claims["iss"], .string(ServiceAccountTokenIssuer.issuer))
        XCTAssertEqual(claims["aud"], ["vault", .string(ServiceAccountTokenIssuer.issuer)])
        XCTAssertEqual(claims["sub"], "system:serviceaccount:default:bot")
        guard case .int(let issued)? = claims["iat"], case .int(let expires)? = claims["exp"], case .int(let notBefore)? = claims["nbf"] else {
            return XCTFail("iat, exp and nbf are numbers: \(claims)")
        }
        XCTAssertEqual(expires - issued, 1200)
        XCTAssertEqual(notBefore, issued)
        let uid = run("get", "serviceaccount", "bot", "-o", "jsonpath={.metadata.uid}").stdout
        XCTAssertEqual(claims.at("kubernetes.io", "serviceaccount"), ["name": "bot", "uid": .string(uid)])
        XCTAssertEqual(claims.at("kubernetes.io", "namespace"), "default")

        let short = run("create", "token", "bot", "--duration", "5m")
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("may not specify a duration less than 10 minutes"), short.stderr)
        let missing = run("create", "token", "nobody")
        XCTAssertTrue(missing.stderr.contains(#"serviceaccounts "nobody" not found"#), missing.stderr)
    }

    func testABoundTokenDiesWithItsPodAndATokenWithItsServiceAccount() throws {
        XCTAssertEqual(run("create", "serviceaccount", "runner").status, 0)
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "job-1"],
                         "spec": ["serviceAccountName": "runner", "containers": [["name": "main", "image": "busybox"]]]]
        XCTAssertEqual(try create(pod)["kind"], "Pod")
        let bound = run("create", "token", "runner", "--bound-object-kind", "Pod", "--bound-object-name", "job-1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let unbound = run("create", "token", "runner").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let whoami = run(token: bound, "auth", "whoami", "-o", "jsonpath={.status.userInfo.extra.authentication\\.kubernetes\\.io/pod-name}")
        XCTAssertEqual(whoami.status, 0, whoami.stderr)
        XCTAssertEqual(whoami.stdout, #"["job-1"]"#)

        XCTAssertEqual(run("delete", "pod", "job-1").status, 0)
        let afterPod = run(token: bound, "auth", "whoami")
        XCTAssertEqual(afterPod.status, 1)
        XCTAssertTrue(afterPod.stderr.contains("You must be logged in to the server"), afterPod.stderr)
        XCTAssertEqual(run(token: unbound, "auth", "whoami").status, 0, "the unbound token lives on")

        // TokenReview says why a token stopped working.
        let review = try tokenReview(bound)
        XCTAssertNil(review.at("status", "authenticated"))
        XCTAssertEqual(review.at("status", "error"), "invalid bearer token, the pod this token is bound to no longer exists")

        XCTAssertEqual(run("delete", "serviceaccount", "runner").status, 0)
        XCTAssertEqual(run(token: unbound, "auth", "whoami").status, 1, "a token ends with its ServiceAccount")
        XCTAssertEqual(run("create", "serviceaccount", "runner").status, 0)
        XCTAssertEqual(run(token: unbound, "auth", "whoami").status, 1, "a new account of the same name is not the old one")
    }

    func testTokenReviewChecksAudiences() throws {
        XCTAssertEqual(run("create", "serviceaccount", "bot").status, 0)
        let vault = run("create", "token", "bot", "--audience", "vault").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(run(token: vault, "auth", "whoami").status, 1, "a token for another audience does not open the API")
        let accepted = try tokenReview(vault, audiences: ["vault"])
        XCTAssertEqual(accepted.at("status", "authenticated"), true)
        XCTAssertEqual(accepted.at("status", "audiences"), ["vault"])
        XCTAssertEqual(accepted.at("status", "user", "username"), "system:serviceaccount:default:bot")
        XCTAssertTrue(try tokenReview(vault).at("status", "error")?.stringValue?.contains("is invalid for the target audiences") ?? false)
        let garbage = try tokenReview("a.b.c")
        XCTAssertTrue(garbage.at("status", "error")?.stringValue?.hasPrefix("invalid bearer token") ?? false, "\(garbage)")
    }

    func testCanIYesNoAsAndList() throws {
        let yes = run("auth", "can-i", "list", "pods")
        XCTAssertEqual(yes.status, 0)
        XCTAssertEqual(yes.stdout, "yes\n")
        let no = run("auth", "can-i", "list", "pods", "--as", "alice")
        XCTAssertEqual(no.status, 1)
        XCTAssertEqual(no.stdout, "no\n")

        XCTAssertEqual(run("create", "namespace", "team-a").status, 0)
        XCTAssertEqual(run("create", "role", "cm-editor", "-n", "team-a", "--verb=get,list,update", "--resource=configmaps", "--resource-name=settings").status, 0)
        XCTAssertEqual(run("create", "rolebinding", "alice-edits", "-n", "team-a", "--role=cm-editor", "--group=editors").status, 0)
        XCTAssertEqual(run("auth", "can-i", "update", "configmaps/settings", "-n", "team-a", "--as", "alice", "--as-group", "editors").stdout, "yes\n")
        XCTAssertEqual(run("auth", "can-i", "update", "configmaps/other", "-n", "team-a", "--as", "alice", "--as-group", "editors").stdout, "no\n")
        XCTAssertEqual(run("auth", "can-i", "update", "configmaps/settings", "-n", "default", "--as", "alice", "--as-group", "editors").stdout, "no\n")
        XCTAssertEqual(run("auth", "can-i", "update", "configmaps/settings", "-n", "team-a", "--as", "alice").stdout, "no\n", "without the group")
        // Two --as-group flags are two Impersonate-Group headers.
        XCTAssertEqual(run("auth", "can-i", "update", "configmaps/settings", "-n", "team-a", "--as", "alice", "--as-group", "others", "--as-group", "editors").stdout, "yes\n")

        let list = run("auth", "can-i", "--list", "-n", "team-a", "--as", "alice", "--as-group", "editors")
        XCTAssertEqual(list.status, 0, list.stderr)
        let line = list.stdout.split(separator: "\n").first { $0.hasPrefix("configmaps ") }
        XCTAssertEqual(line.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }, "configmaps [] [settings] [get list update]", list.stdout)
        XCTAssertTrue(list.stdout.contains("selfsubjectaccessreviews.authorization.k8s.io"), list.stdout)
        let admin = run("auth", "can-i", "--list", "-n", "team-a")
        XCTAssertTrue(admin.stdout.contains("*.*"), admin.stdout)

        // A user who may not impersonate is told so by kubectl.
        let alice = try mint("alice")
        let refused = run(token: alice, "auth", "can-i", "list", "pods", "--as", "bob")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains(#"users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#), refused.stderr)
        XCTAssertEqual(run(token: alice, "auth", "can-i", "create", "selfsubjectaccessreviews.authorization.k8s.io").stdout, "yes\n")
    }

    func testGetLeasesAndForbiddenThroughKubectl() throws {
        let lease = cluster.directory + "/lease.yaml"
        try """
            apiVersion: coordination.k8s.io/v1
            kind: Lease
            metadata: {name: tenantry-leader, namespace: kube-system}
            spec: {holderIdentity: replica-1, leaseDurationSeconds: 15}
            """.write(toFile: lease, atomically: true, encoding: .utf8)
        XCTAssertEqual(run("apply", "--server-side", "-f", lease).status, 0)
        XCTAssertEqual(run("get", "lease", "tenantry-leader", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}").stdout, "replica-1")
        let denied = run(token: try mint("alice"), "get", "leases", "-n", "kube-system")
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderr.contains(#"Error from server (Forbidden): leases.coordination.k8s.io is forbidden: User "alice" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system""#), denied.stderr)
    }

    func testTheDatabaseKeysAndTokensArePrivate() throws {
        XCTAssertEqual(run("create", "configmap", "c", "--from-literal=a=b").status, 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: cluster.directory).filter { !$0.hasPrefix("kubectl-cache") }
        for name in ["cluster.db", "cluster.db-wal", "cluster.db-shm", "sa.key", "token", "tls.key", "kubeconfig"] {
            XCTAssertTrue(names.contains(name), "\(name) in \(names)")
        }
        for name in names {
            let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: cluster.directory + "/" + name)[.posixPermissions] as? Int)
            XCTAssertEqual(mode & 0o077, 0, "\(name) is \(String(mode, radix: 8))")
        }
    }

    func testUserTokensAreNotMintedForServiceAccounts() {
        XCTAssertThrowsError(try UserTokens.mint(directory: cluster.directory, user: "system:serviceaccount:default:x", groups: [], validForSeconds: 600)) {
            XCTAssertTrue("\($0)".contains("kubectl create token"), "\($0)")
        }
        XCTAssertThrowsError(try UserTokens.mint(directory: cluster.directory, user: "", groups: [], validForSeconds: 600)) { XCTAssertTrue($0 is UsageError) }
    }

    private func base64URL(_ text: Substring) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
