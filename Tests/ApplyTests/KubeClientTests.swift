import Apply
import ApplyTestSupport
import Foundation
import Model
import XCTest

/// The Kubernetes client against the local cluster, through real HTTPS.
final class KubeClientTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws { cluster = try TestAPIServer() }
    override func tearDown() { cluster = nil }

    func testApplyCreatesThenGetAndListWithSelectorAndPaging() throws {
        let client = try cluster.client()
        for index in 0..<7 {
            _ = try client.apply(Fixture.configMap("cm-\(index)", namespace: "default", owner: index < 5 ? "a" : "b"))
        }
        let reference = ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "cm-3")
        XCTAssertEqual(try client.get(reference)?["data"]?["k"], "v")
        XCTAssertNil(try client.get(ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "absent")))

        client.resetRequestCounts()
        let all = try client.list(apiVersion: "v1", kind: "ConfigMap", labelSelector: "tenantry.dev/tenant", pageSize: 3)
        XCTAssertEqual(all.count, 7)
        XCTAssertEqual(client.requestCounts.reads, 3, "7 objects in pages of 3")
        XCTAssertEqual(all.first?["kind"], "ConfigMap", "list items get their kind back")
        let teamA = try client.list(apiVersion: "v1", kind: "ConfigMap", namespace: "default", labelSelector: "tenantry.dev/tenant=a")
        XCTAssertEqual(teamA.count, 5)
    }

    func testInvalidObjectIsReportedLikeKubectlWithTheField() throws {
        let client = try cluster.client()
        var bad = Fixture.configMap("Not_Valid", namespace: "default")
        bad["data"] = ["k": "v"]
        XCTAssertThrowsError(try client.apply(bad)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("ConfigMap/default/Not_Valid apply failed: The ConfigMap \"Not_Valid\" is invalid: metadata.name: Invalid value"), text)
            XCTAssertEqual((error as? KubeError)?.status?.code, 422)
        }
    }

    func testSeveralCausesAreListedOneLineEach() {
        let body = #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Invalid","code":422,"message":"RoleBinding.rbac.authorization.k8s.io \"agents\" is invalid","details":{"name":"agents","kind":"RoleBinding","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"roleRef.name"},{"reason":"FieldValueNotSupported","message":"Unsupported value: \"Team\"","field":"subjects[0].kind"},{"reason":"FieldValueRequired","message":"Required value","field":"roleRef.name"}]}}"#
        let status = KubeStatus(code: 422, body: Array(body.utf8))
        let reference = ObjectReference(apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", namespace: "team-a", name: "agents")
        XCTAssertEqual(KubeError.status(status, object: reference, step: "apply").description, """
            RoleBinding/team-a/agents apply failed: The RoleBinding "agents" is invalid: \n\
            * roleRef.name: Required value
            * subjects[0].kind: Unsupported value: "Team"
            """)
        let proxy = KubeStatus(code: 502, body: Array("<html>Bad Gateway</html>\nmore".utf8))
        XCTAssertEqual(KubeError.status(proxy, object: nil, step: "list ConfigMap").description,
                       "list ConfigMap failed: Error from server (Unknown): <html>Bad Gateway</html>")
    }

    func testConflictWithAnotherManagerNamesItAndTheForceFix() throws {
        let other = try cluster.client(fieldManager: "helm")
        let client = try cluster.client()
        _ = try other.apply(Fixture.configMap("shared", namespace: "default", data: ["k": "from-helm"]))
        XCTAssertThrowsError(try client.apply(Fixture.configMap("shared", namespace: "default", data: ["k": "from-tenantry"]))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("ConfigMap/default/shared apply failed: Error from server (Conflict): Apply failed with "), text)
            XCTAssertTrue(text.contains("conflict with \"helm\" using v1: .data.k"), text)
            XCTAssertTrue(text.contains(".data.k"), text)
            XCTAssertTrue(text.contains("Other field managers own these fields: helm"), text)
            XCTAssertTrue(text.contains("re-run with --force-conflicts"), text)
            XCTAssertEqual((error as? KubeError)?.status?.conflictingManagers, ["helm"])
        }
        let forced = try client.apply(Fixture.configMap("shared", namespace: "default", data: ["k": "from-tenantry"]), force: true)
        XCTAssertEqual(forced["data"]?["k"], "from-tenantry")
    }

    func testTooManyRequestsAndServerErrorsAreRetried() throws {
        let client = try cluster.client()
        cluster.faults.inject(.tooManyRequests(retryAfterSeconds: 1), times: 2)
        _ = try client.apply(Fixture.configMap("throttled", namespace: "default"))
        XCTAssertEqual(client.requestCounts.retries, 2)
        cluster.faults.inject(.internalError, times: 3)
        _ = try client.apply(Fixture.configMap("flaky", namespace: "default"))
        XCTAssertEqual(client.requestCounts.retries, 5)
        XCTAssertNotNil(try client.get(ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "flaky")))
    }

    func testRetriesAreBoundedAndTheLastErrorIsShown() throws {
        let client = try cluster.client(attempts: 3)
        cluster.faults.inject(.internalError, times: 10)
        XCTAssertThrowsError(try client.apply(Fixture.configMap("down", namespace: "default"))) { error in
            XCTAssertEqual("\(error)", "ConfigMap/default/down apply failed: Error from server (InternalError): Internal error occurred: injected fault")
        }
        XCTAssertEqual(client.requestCounts.writes, 3)
        cluster.faults.clear()
    }

    func testDiscoveryFindsAKindRightAfterItsCRDIsApplied() throws {
        let client = try cluster.client()
        XCTAssertThrowsError(try client.resource(apiVersion: "example.com/v1", kind: "Widget")) { error in
            XCTAssertTrue("\(error)".contains("does not serve Widget in example.com/v1"), "\(error)")
        }
        _ = try client.apply(Self.widgetCRD)
        let info = try client.resource(apiVersion: "example.com/v1", kind: "Widget")
        XCTAssertEqual(info.plural, "widgets")
        XCTAssertTrue(info.namespaced)
        client.resetRequestCounts()
        _ = try client.resource(apiVersion: "example.com/v1", kind: "Widget")
        XCTAssertEqual(client.requestCounts.total, 0, "discovery answers from its cache")
    }

    func testAnUnreachableServerSaysSoWithoutTheToken() throws {
        var config = try cluster.config()
        cluster.stop()
        config.token = "very-secret-token"
        let client = KubeClient(config: config, retry: KubeRetryPolicy(attempts: 2, initialDelay: 0.01))
        XCTAssertThrowsError(try client.get(ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "x"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("was refused - did you specify the right host or port?"), text)
            XCTAssertFalse(text.contains("very-secret-token"), text)
        }
        try cluster.start()
    }

    static let widgetCRD: JSONObject = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "widgets.example.com", "labels": ["app.kubernetes.io/managed-by": "tenantry"]],
        "spec": ["group": "example.com", "scope": "Namespaced",
                 "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
                 "versions": [["name": "v1", "served": true, "storage": true,
                               "schema": ["openAPIV3Schema": ["type": "object", "properties": [
                                   "spec": ["type": "object", "properties": ["size": ["type": "integer"]]]]]]]]],
    ]
}
