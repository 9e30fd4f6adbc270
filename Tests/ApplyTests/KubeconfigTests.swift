import Apply
import ApplyTestSupport
import Foundation
import XCTest

/// Kubeconfig files shaped like the ones kubectl, kind, EKS and service accounts produce.
final class KubeconfigTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static let twoContexts = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: prod
          cluster:
            server: https://prod.example.com:6443/
            certificate-authority-data: \(Data("PROD CA PEM".utf8).base64EncodedString())
        - name: dev
          cluster:
            server: https://dev.example.com
            insecure-skip-tls-verify: true
        users:
        - name: admin
          user:
            client-certificate-data: \(Data("CERT PEM".utf8).base64EncodedString())
            client-key-data: \(Data("KEY PEM".utf8).base64EncodedString())
        - name: robot
          user:
            token: s3cr3t-token-value
        contexts:
        - name: prod-admin
          context: {cluster: prod, user: admin, namespace: payments}
        - name: dev-robot
          context: {cluster: dev, user: robot}
        current-context: prod-admin
        preferences: {}
        """

    func testTheCurrentContextGivesServerInlineCAAndClientCertificate() throws {
        let config = try Kubeconfig.parse(Self.twoContexts, file: "config").resolve()
        XCTAssertEqual(config.server, "https://prod.example.com:6443", "the trailing slash is dropped")
        XCTAssertEqual(config.tls.caData, Array("PROD CA PEM".utf8))
        XCTAssertEqual(config.tls.clientCertificateData, Array("CERT PEM".utf8))
        XCTAssertEqual(config.tls.clientKeyData, Array("KEY PEM".utf8))
        XCTAssertNil(config.token)
        XCTAssertEqual(config.namespace, "payments")
        XCTAssertFalse(config.tls.insecureSkipVerify)
    }

    func testContextFlagPicksAnotherContextWithTokenAndInsecureSkip() throws {
        let config = try Kubeconfig.parse(Self.twoContexts, file: "config").resolve(context: "dev-robot")
        XCTAssertEqual(config.server, "https://dev.example.com")
        XCTAssertEqual(config.token, "s3cr3t-token-value")
        XCTAssertTrue(config.tls.insecureSkipVerify)
        XCTAssertEqual(config.namespace, "default")
    }

    func testDescriptionNeverShowsTheToken() throws {
        let config = try Kubeconfig.parse(Self.twoContexts, file: "config").resolve(context: "dev-robot")
        XCTAssertFalse(config.description.contains("s3cr3t"), config.description)
        XCTAssertTrue(config.description.contains("token ***"), config.description)
    }

    func testUnknownContextSuggestsTheClosestName() throws {
        XCTAssertThrowsError(try Kubeconfig.parse(Self.twoContexts, file: "config").resolve(context: "prod-admn")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("context \"prod-admn\" not found (did you mean \"prod-admin\"?)"), text)
            XCTAssertTrue(text.contains("dev-robot, prod-admin"), text)
        }
    }

    func testRelativeFilePathsResolveAgainstTheKubeconfigsDirectoryAndTokenFileIsRead() throws {
        try write("certs/token", "file-token\n")
        let path = try write("nested/config", """
            clusters:
            - name: c
              cluster: {server: "https://10.0.0.1:443", certificate-authority: ../certs/ca.crt}
            users:
            - name: u
              user: {tokenFile: ../certs/token, client-certificate: /abs/client.crt, client-key: client.key}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            current-context: x
            """)
        let config = try Kubeconfig.load(paths: [path]).resolve()
        XCTAssertEqual(config.tls.caFile, directory.appendingPathComponent("nested").path + "/../certs/ca.crt")
        XCTAssertEqual(config.tls.clientCertificateFile, "/abs/client.crt")
        XCTAssertEqual(config.tls.clientKeyFile, directory.appendingPathComponent("nested").path + "/client.key")
        XCTAssertEqual(config.token, "file-token")
    }

    func testSeveralFilesMergeWithTheFirstDefinitionWinning() throws {
        let first = try write("a", """
            clusters:
            - {name: shared, cluster: {server: "https://first.example"}}
            users:
            - {name: me, user: {token: first-token}}
            contexts:
            - {name: one, context: {cluster: shared, user: me}}
            """)
        let second = try write("b", """
            clusters:
            - {name: shared, cluster: {server: "https://second.example"}}
            - {name: other, cluster: {server: "https://other.example"}}
            users:
            - {name: me, user: {token: second-token}}
            contexts:
            - {name: two, context: {cluster: other, user: me}}
            current-context: two
            """)
        let missing = directory.appendingPathComponent("does-not-exist").path
        let merged = try Kubeconfig.load(paths: [first, missing, second])
        XCTAssertEqual(merged.contextNames, ["one", "two"])
        XCTAssertEqual(merged.currentContext, "two", "the first file sets no current-context, the second does")
        let two = try merged.resolve()
        XCTAssertEqual(two.server, "https://other.example")
        XCTAssertEqual(two.token, "first-token", "user `me` from the first file wins")
        XCTAssertEqual(try merged.resolve(context: "one").server, "https://first.example")

        let locator = ClusterLocator(environment: ["KUBECONFIG": "\(first):\(second)"], home: directory.path)
        XCTAssertEqual(try locator.locate()?.server, "https://other.example")
    }

    func testAContextNamingAMissingUserOrClusterSaysWhich() throws {
        let text = """
            clusters: [{name: c, cluster: {server: "https://x"}}]
            contexts: [{name: x, context: {cluster: c, user: ghost}}, {name: y, context: {cluster: nowhere}}]
            """
        XCTAssertThrowsError(try Kubeconfig.parse(text, file: "k").resolve(context: "x")) {
            XCTAssertTrue("\($0)".contains("user \"ghost\", which no file defines"), "\($0)")
        }
        XCTAssertThrowsError(try Kubeconfig.parse(text, file: "k").resolve(context: "y")) {
            XCTAssertTrue("\($0)".contains("cluster \"nowhere\", which no file defines"), "\($0)")
        }
        XCTAssertThrowsError(try Kubeconfig.parse("clusters: [1, 2", file: "k")) {
            XCTAssertTrue("\($0)".contains("not valid YAML"), "\($0)")
        }
    }

    func testLocatorOrderFlagThenKubeconfigThenHomeThenInCluster() throws {
        let flagFile = try write("flag", "clusters: [{name: c, cluster: {server: 'https://flag'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n")
        let envFile = try write("env", "clusters: [{name: c, cluster: {server: 'https://env'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n")
        try write("home/.kube/config", "clusters: [{name: c, cluster: {server: 'https://home'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n")
        let home = directory.appendingPathComponent("home").path
        let serviceAccount = directory.appendingPathComponent("sa")
        try write("sa/token", "sa-token\n")
        try write("sa/namespace", "tenantry-system\n")
        try write("sa/ca.crt", "CA")
        let inCluster = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]

        XCTAssertEqual(try ClusterLocator(kubeconfigFlag: flagFile, environment: ["KUBECONFIG": envFile], home: home).locate()?.server, "https://flag")
        XCTAssertEqual(try ClusterLocator(environment: ["KUBECONFIG": envFile], home: home).locate()?.server, "https://env")
        XCTAssertEqual(try ClusterLocator(environment: [:], home: home).locate()?.server, "https://home")

        let pod = try ClusterLocator(environment: inCluster, home: directory.path, serviceAccountDirectory: serviceAccount.path).locate()
        XCTAssertEqual(pod?.server, "https://10.96.0.1:443")
        XCTAssertEqual(pod?.token, "sa-token")
        XCTAssertEqual(pod?.namespace, "tenantry-system")
        XCTAssertEqual(pod?.tls.caFile, serviceAccount.path + "/ca.crt")
        XCTAssertEqual(pod?.source, "in-cluster")

        XCTAssertNil(try ClusterLocator(environment: [:], home: directory.path, serviceAccountDirectory: serviceAccount.path).locate(),
                     "nothing configured: the caller falls back to the local cluster")
        XCTAssertThrowsError(try ClusterLocator(kubeconfigFlag: directory.path + "/nope", environment: [:], home: home).locate()) {
            XCTAssertTrue("\($0)".contains("--kubeconfig"), "\($0)")
        }
    }

    func testTheLocalClustersOwnKubeconfigConnects() throws {
        let cluster = try TestAPIServer()
        let config = try Kubeconfig.load(paths: [cluster.kubeconfigPath]).resolve()
        XCTAssertTrue(config.server.hasPrefix("https://127.0.0.1:"), config.server)
        XCTAssertNotNil(config.tls.caData)
        let client = KubeClient(config: config)
        XCTAssertEqual(try client.resource(apiVersion: "v1", kind: "Namespace").plural, "namespaces")
    }
}
