import Foundation
import Model
import XCTest

/// RFC 6902 JSON Patch on every resource, errors as kube-apiserver answers them.
final class JSONPatchTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster?.stop() }

    private func patch(_ path: String, _ operations: JSON) -> TestResponse {
        cluster.request("PATCH", path, json: operations, contentType: "application/json-patch+json")
    }

    func testEveryOperationWithPointerEscapes() {
        let path = "/api/v1/namespaces/default/configmaps/ops"
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("ops", data: ["a": "1", "b": "2"])).status, 201)
        let response = patch(path, [
            ["op": "test", "path": "/data/a", "value": "1"],
            ["op": "add", "path": "/metadata/labels", "value": [:]],
            ["op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "demo"],
            ["op": "add", "path": "/metadata/annotations", "value": ["x~y": "1"]],
            ["op": "replace", "path": "/metadata/annotations/x~0y", "value": "2"],
            ["op": "copy", "from": "/data/a", "path": "/data/c"],
            ["op": "move", "from": "/data/b", "path": "/data/d"],
            ["op": "remove", "path": "/data/a"],
            ["op": "add", "path": "/metadata/finalizers", "value": ["x.io/one"]],
            ["op": "add", "path": "/metadata/finalizers/-", "value": "x.io/three"],
            ["op": "add", "path": "/metadata/finalizers/1", "value": "x.io/two"],
        ])
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json["data"], ["c": "1", "d": "2"])
        XCTAssertEqual(response.json.at("metadata", "labels"), ["app.kubernetes.io/name": "demo"])
        XCTAssertEqual(response.json.at("metadata", "annotations"), ["x~y": "2"])
        XCTAssertEqual(response.json.at("metadata", "finalizers"), ["x.io/one", "x.io/two", "x.io/three"])
        let stored = cluster.request("GET", path).json
        XCTAssertEqual(stored["data"], ["c": "1", "d": "2"])
        XCTAssertTrue(stored.at("metadata", "managedFields")?.arrayValue?.contains { $0["operation"] == "Update" } == true)
    }

    func testFailedTestAndMissingPathsAre422AndChangeNothing() {
        let path = "/api/v1/namespaces/default/configmaps/fails"
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("fails", data: ["a": "1"])).status, 201)
        let before = cluster.request("GET", path).json

        let failedTest = patch(path, [["op": "replace", "path": "/data/a", "value": "2"], ["op": "test", "path": "/data/a", "value": "1"]])
        XCTAssertEqual(failedTest.status, 422, failedTest.text)
        XCTAssertEqual(failedTest.json["reason"], "Invalid")
        XCTAssertEqual(failedTest.json["message"], "the server rejected our request due to an error in our request")
        XCTAssertEqual(patch(path, [["op": "remove", "path": "/data/nope"]]).status, 422)
        XCTAssertEqual(patch(path, [["op": "add", "path": "/metadata/finalizers/1", "value": "x"]]).status, 422)
        XCTAssertEqual(patch(path, [["op": "move", "from": "/data", "path": "/data/a/b"]]).status, 422)
        XCTAssertEqual(patch(path, [["op": "replace", "path": "/spec/x", "value": 1]]).status, 422)
        XCTAssertEqual(patch(path, [["op": "jump", "path": "/data"]]).status, 422)
        XCTAssertEqual(patch(path, ["op": "add"]).status, 400)
        XCTAssertEqual(cluster.request("GET", path).json, before)
    }

    func testAPatchThatBreaksTheSchemaOrTheVersionIsRefused() {
        let path = "/api/v1/namespaces/default/configmaps/checked"
        let created = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("checked"))
        XCTAssertEqual(created.status, 201)
        let typed = patch(path, [["op": "add", "path": "/data/n", "value": 3]])
        XCTAssertEqual(typed.status, 400, typed.text)
        XCTAssertTrue(typed.json["message"]?.stringValue?.contains("cannot unmarshal number into Go struct field ConfigMap.data of type string") == true)
        let stale = patch(path, [["op": "replace", "path": "/metadata/resourceVersion", "value": "1"], ["op": "add", "path": "/data/x", "value": "y"]])
        XCTAssertEqual(stale.status, 409, stale.text)
        XCTAssertEqual(patch("/api/v1/namespaces/default/configmaps/absent", [["op": "add", "path": "/data/x", "value": "y"]]).status, 404)
    }

    func testCustomResourcesTakeJSONPatch() {
        let crd: JSON = ["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
            "spec": ["group": "example.com", "scope": "Namespaced", "names": ["plural": "widgets", "singular": "widget", "kind": "Widget"],
                     "versions": [["name": "v1", "served": true, "storage": true,
                                   "schema": ["openAPIV3Schema": ["type": "object", "properties": ["spec": ["type": "object", "properties": ["size": ["type": "integer"]]]]]]]]]]
        XCTAssertEqual(cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: crd).status, 201)
        let widget: JSON = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 1]]
        XCTAssertEqual(cluster.request("POST", "/apis/example.com/v1/namespaces/default/widgets", json: widget).status, 201)
        let patched = patch("/apis/example.com/v1/namespaces/default/widgets/w", [["op": "replace", "path": "/spec/size", "value": 5]])
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(patched.json.at("spec", "size"), 5)
        XCTAssertEqual(patch("/apis/example.com/v1/namespaces/default/widgets/w", [["op": "replace", "path": "/spec/size", "value": "big"]]).status, 422)
    }
}
