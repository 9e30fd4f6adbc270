import Foundation
import Model
import XCTest

/// CRD schema defaults and the scale subresource, as apiextensions-apiserver serves them.
final class CustomResourceExtrasTests: XCTestCase {
    var cluster: TestCluster!
    let widgets = "/apis/example.com/v1/namespaces/default/widgets"

    override func setUpWithError() throws {
        cluster = try TestCluster()
        let spec: JSON = ["type": "object", "default": [:], "properties": [
            "replicas": ["type": "integer", "default": 1, "minimum": 0],
            "size": ["type": "string", "default": "small"],
            "ports": ["type": "array", "items": ["type": "object", "properties": ["port": ["type": "integer"], "protocol": ["type": "string", "default": "TCP"]]]],
        ]]
        let status: JSON = ["type": "object", "properties": ["replicas": ["type": "integer"], "selector": ["type": "string"]]]
        let version: JSON = ["name": "v1", "served": true, "storage": true,
                             "subresources": ["status": [:], "scale": ["specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                                                                      "labelSelectorPath": ".status.selector"]],
                             "schema": ["openAPIV3Schema": ["type": "object", "properties": ["spec": spec, "status": status]]]]
        let crd: JSON = ["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
                         "spec": ["group": "example.com", "scope": "Namespaced", "names": ["plural": "widgets", "singular": "widget", "kind": "Widget"],
                                  "versions": [version]]]
        let created = cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: crd)
        XCTAssertEqual(created.status, 201, created.text)
    }

    override func tearDown() { cluster?.stop() }

    func testSchemaDefaultsAreAppliedOnCreateAndUpdate() {
        let bare = cluster.request("POST", widgets, json: ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "bare"]])
        XCTAssertEqual(bare.status, 201, bare.text)
        XCTAssertEqual(bare.json["spec"], ["replicas": 1, "size": "small"])

        let partial: JSON = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "partial"],
                             "spec": ["size": "large", "ports": [["port": 80], ["port": 53, "protocol": "UDP"]]]]
        let created = cluster.request("POST", widgets, json: partial)
        XCTAssertEqual(created.json["spec"], ["size": "large", "ports": [["port": 80, "protocol": "TCP"], ["port": 53, "protocol": "UDP"]], "replicas": 1])

        var replaced = created.json
        replaced.setValueForTest(["size": "medium"], at: "spec")
        let updated = cluster.request("PUT", widgets + "/partial", json: replaced)
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(updated.json["spec"], ["size": "medium", "replicas": 1])
    }

    func testScaleSubresource() {
        XCTAssertEqual(cluster.request("POST", widgets, json: ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["replicas": 2]]).status, 201)
        let status: JSON = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "status": ["replicas": 2, "selector": "app=w"]]
        XCTAssertEqual(cluster.request("PUT", widgets + "/w/status", json: status).status, 200)

        let scale = cluster.request("GET", widgets + "/w/scale")
        XCTAssertEqual(scale.status, 200, scale.text)
        XCTAssertEqual(scale.json["kind"], "Scale")
        XCTAssertEqual(scale.json["apiVersion"], "autoscaling/v1")
        XCTAssertEqual(scale.json["spec"], ["replicas": 2])
        XCTAssertEqual(scale.json["status"], ["replicas": 2, "selector": "app=w"])

        let patched = cluster.request("PATCH", widgets + "/w/scale", json: ["spec": ["replicas": 5]], contentType: "application/merge-patch+json")
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(patched.json.at("spec", "replicas"), 5)
        XCTAssertEqual(cluster.request("GET", widgets + "/w").json.at("spec", "replicas"), 5)

        var put = patched.json
        put.setValueForTest(["replicas": 3], at: "spec")
        XCTAssertEqual(cluster.request("PUT", widgets + "/w/scale", json: put).json.at("spec", "replicas"), 3)
        let negative = cluster.request("PATCH", widgets + "/w/scale", json: ["spec": ["replicas": -1]], contentType: "application/merge-patch+json")
        XCTAssertEqual(negative.status, 422, negative.text)

        let discovery = cluster.request("GET", "/apis/example.com/v1").json["resources"]?.arrayValue ?? []
        let entry = discovery.first { $0["name"] == "widgets/scale" }
        XCTAssertEqual(entry?["kind"], "Scale")
        XCTAssertEqual(entry?["group"], "autoscaling")
        XCTAssertEqual(entry?["version"], "v1")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/x/scale").status, 404)
    }
}

extension KubectlTests {
    func testKubectlScaleACustomResource() throws {
        let crd = try write("widgets.yaml", """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions:
              - name: v1
                served: true
                storage: true
                subresources:
                  scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec: {type: object, properties: {replicas: {type: integer, default: 1}}}
                      status: {type: object, properties: {replicas: {type: integer}}}
            """)
        XCTAssertEqual(run("apply", "-f", crd).status, 0)
        let widget = try write("widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n")
        XCTAssertEqual(run("apply", "-f", widget).status, 0)
        XCTAssertEqual(run("get", "widget", "w", "-o", "jsonpath={.spec.replicas}").stdout, "1")
        let scaled = run("scale", "widget", "w", "--replicas=4")
        XCTAssertEqual(scaled.status, 0, scaled.stderr)
        XCTAssertEqual(scaled.stdout, "widget.example.com/w scaled\n")
        XCTAssertEqual(run("get", "widget", "w", "-o", "jsonpath={.spec.replicas}").stdout, "4")
    }
}
