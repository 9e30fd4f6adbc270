import Foundation
import Model
import XCTest

final class ServerSideApplyTests: XCTestCase {
    var cluster: TestCluster!
    let path = "/api/v1/namespaces/default/configmaps/app"

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster.stop() }

    func testApplyCreatesAndRecordsTheManager() {
        let created = cluster.apply(path, configMap("app", data: ["a": "1"]), manager: "alice")
        XCTAssertEqual(created.status, 201, created.text)
        let entries = created.json.at("metadata", "managedFields")?.arrayValue ?? []
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries.first?["manager"], "alice")
        XCTAssertEqual(entries.first?["operation"], "Apply")
        XCTAssertEqual(entries.first?.at("fieldsV1", "f:data", "f:a"), .object([:]))
        XCTAssertEqual(cluster.apply(path, configMap("app", data: ["a": "1"]), manager: "alice").status, 200)
    }

    func testAnotherManagerChangingAnOwnedFieldConflicts() {
        cluster.apply(path, configMap("app", data: ["a": "1"]), manager: "alice")
        let conflict = cluster.apply(path, configMap("app", data: ["a": "2"]), manager: "bob")
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(conflict.json["reason"], "Conflict")
        let cause = conflict.json.at("details", "causes")?.arrayValue?.first
        XCTAssertEqual(cause?["reason"], "FieldManagerConflict")
        XCTAssertEqual(cause?["field"], ".data.a")
        XCTAssertEqual(cause?["message"], "conflict with \"alice\" using v1")

        // The same value is shared ownership, not a conflict.
        XCTAssertEqual(cluster.apply(path, configMap("app", data: ["a": "1"]), manager: "bob").status, 200)
    }

    func testForceTakesOwnership() {
        cluster.apply(path, configMap("app", data: ["a": "1", "b": "1"]), manager: "alice")
        let forced = cluster.apply(path, configMap("app", data: ["a": "2"]), manager: "bob", force: true)
        XCTAssertEqual(forced.status, 200, forced.text)
        XCTAssertEqual(forced.json.at("data", "a"), "2")
        let alice = forced.json.at("metadata", "managedFields")?.arrayValue?.first { $0["manager"] == "alice" }
        XCTAssertNil(alice?.at("fieldsV1", "f:data", "f:a"))
        XCTAssertNotNil(alice?.at("fieldsV1", "f:data", "f:b"))
    }

    func testFieldsAManagerStopsSendingAreRemoved() {
        cluster.apply(path, configMap("app", data: ["a": "1", "b": "2"], labels: ["keep": "yes", "drop": "yes"]), manager: "alice")
        let applied = cluster.apply(path, configMap("app", data: ["a": "1"], labels: ["keep": "yes"]), manager: "alice")
        XCTAssertEqual(applied.status, 200, applied.text)
        XCTAssertEqual(applied.json["data"], ["a": "1"])
        XCTAssertEqual(applied.json.at("metadata", "labels"), ["keep": "yes"])
    }

    func testMapsEmptiedByRemovalGo() {
        cluster.apply(path, configMap("app", data: ["a": "1"], labels: ["only": "one"]), manager: "alice")
        let applied = cluster.apply(path, configMap("app", data: ["a": "1"]), manager: "alice")
        XCTAssertNil(applied.json.at("metadata", "labels"), applied.text)
        XCTAssertEqual(applied.json.at("metadata", "name"), "app")
    }

    func testRemovedFieldStaysWhileAnotherManagerOwnsIt() {
        cluster.apply(path, configMap("app", data: ["a": "1", "b": "2"]), manager: "alice")
        cluster.apply(path, configMap("app", data: ["b": "2"]), manager: "bob")
        let applied = cluster.apply(path, configMap("app", data: ["a": "1"]), manager: "alice")
        XCTAssertEqual(applied.json["data"], ["a": "1", "b": "2"])
    }

    func testFieldManagerIsRequiredAndDryRunStoresNothing() {
        let missing = cluster.request("PATCH", path, json: configMap("app"), contentType: "application/apply-patch+yaml")
        XCTAssertEqual(missing.status, 422)
        XCTAssertTrue(missing.text.contains("fieldManager"))
        let dry = cluster.apply(path, configMap("app"), manager: "alice", extra: "&dryRun=All")
        XCTAssertEqual(dry.status, 201)
        XCTAssertNil(dry.json.at("metadata", "resourceVersion"), "a dry-run create has no version")
        XCTAssertEqual(cluster.request("GET", path).status, 404)
        let live = cluster.apply(path, configMap("app"), manager: "alice").json
        let changed = cluster.apply(path, configMap("app", data: ["k": "changed"]), manager: "alice", extra: "&dryRun=All")
        XCTAssertEqual(changed.json.at("data", "k"), "changed")
        XCTAssertEqual(changed.json.at("metadata", "resourceVersion"), live.at("metadata", "resourceVersion"), "a dry run keeps the stored version")
        XCTAssertEqual(cluster.request("GET", path).json.at("data", "k"), "v")
    }

    func testYAMLBodiesAreAppliedAndBadYAMLIsABadRequest() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: \"1\"\n"
        let applied = cluster.request("PATCH", path + "?fieldManager=alice", text: yaml, contentType: "application/apply-patch+yaml")
        XCTAssertEqual(applied.status, 201, applied.text)
        XCTAssertEqual(applied.json["data"], ["a": "1"])
        let broken = cluster.request("PATCH", path + "?fieldManager=alice", text: "data: [unclosed\n", contentType: "application/apply-patch+yaml")
        XCTAssertEqual(broken.status, 400)
        XCTAssertEqual(broken.json["kind"], "Status")
        XCTAssertTrue(broken.json["message"]?.stringValue?.contains("not valid YAML") ?? false, broken.text)
    }

    func testStrategicMergePatchMergesKeyedListsAndReadsDirectives() {
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "finalizers": ["a"]],
                         "spec": ["containers": [["name": "main", "image": "one"], ["name": "side", "image": "two"]]]]
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/pods", json: pod).status, 201)
        let patch: JSON = [
            "metadata": ["finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]],
            "spec": ["$setElementOrder/containers": [["name": "main"], ["name": "side"]],
                     "containers": [["name": "side", "image": "three"], ["name": "gone", "$patch": "delete"]]],
        ]
        let patched = cluster.request("PATCH", "/api/v1/namespaces/default/pods/p", json: patch, contentType: "application/strategic-merge-patch+json")
        XCTAssertEqual(patched.status, 200, patched.text)
        // The server defaulted each container's termination message fields at create, as Kubernetes does.
        XCTAssertEqual(patched.json.at("spec", "containers"), [
            ["name": "main", "image": "one", "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"],
            ["name": "side", "image": "three", "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"],
        ])
        XCTAssertEqual(patched.json.at("metadata", "finalizers"), ["b"])
        XCTAssertNil(patched.json.at("spec", "$setElementOrder/containers"))
        let custom = cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: sessionDefinition())
        XCTAssertEqual(custom.status, 201)
        XCTAssertEqual(cluster.request("POST", "/apis/tenantry.dev/v1alpha1/namespaces/default/sessions", json: session("s", agent: "claude")).status, 201)
        XCTAssertEqual(cluster.request("PATCH", "/apis/tenantry.dev/v1alpha1/namespaces/default/sessions/s", json: ["spec": ["agent": "codex"]],
                                       contentType: "application/strategic-merge-patch+json").status, 415)
    }

    func testMergePatchAndUpdateManagers() {
        cluster.apply(path, configMap("app", data: ["a": "1", "b": "2"]), manager: "alice")
        let patched = cluster.request("PATCH", path + "?fieldManager=editor", json: ["data": ["b": nil, "c": "3"]], contentType: "application/merge-patch+json")
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(patched.json["data"], ["a": "1", "c": "3"])
        let editor = patched.json.at("metadata", "managedFields")?.arrayValue?.first { $0["manager"] == "editor" }
        XCTAssertEqual(editor?["operation"], "Update")
        XCTAssertNotNil(editor?.at("fieldsV1", "f:data", "f:c"))
        // alice now conflicts on c only if she applies a different value there.
        XCTAssertEqual(cluster.apply(path, configMap("app", data: ["a": "1", "c": "9"]), manager: "alice").status, 409)
    }
}
