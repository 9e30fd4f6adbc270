import Foundation
import Model
import XCTest

/// Built-in kinds checked against the official Kubernetes 1.32 schemas: Go-decoder type errors as 400,
/// required fields as 422, unknown fields by fieldValidation; and what the cluster accepts agrees with
/// kubernetes-validate (the official schemas, installed by scripts/setup.sh).
final class BuiltInValidationTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster?.stop() }

    func testConfigMapWithANumberInDataIsRefusedAsKubeAPIServerDoes() {
        let response = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("numbers", data: ["a": 1]))
        XCTAssertEqual(response.status, 400, response.text)
        XCTAssertEqual(response.json["reason"], "BadRequest")
        XCTAssertEqual(response.json["message"]?.stringValue,
                       "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/numbers").status, 404)
    }

    func testPodWithContainersAStringNamesTheGoField() {
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": "nope"]]
        let response = cluster.request("POST", "/api/v1/namespaces/default/pods", json: pod)
        XCTAssertEqual(response.status, 400, response.text)
        XCTAssertEqual(response.json["message"]?.stringValue,
                       "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container")
    }

    func testRequiredFieldsAre422WithTheirPaths() {
        let binding: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "b"],
                             "subjects": [["kind": "User"]]]
        let response = cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", json: binding)
        XCTAssertEqual(response.status, 422, response.text)
        XCTAssertEqual(response.json["reason"], "Invalid")
        let fields = Set(response.json.at("details", "causes")?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [])
        XCTAssertEqual(fields, ["roleRef", "subjects[0].name"])
    }

    func testUnknownFieldsFollowFieldValidation() {
        func object(_ name: String) -> JSON {
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "bogus": ["nested": true]], "data": ["k": "v"], "spec": "x"]
        }
        let strict = cluster.request("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", json: object("extra"))
        XCTAssertEqual(strict.status, 400, strict.text)
        XCTAssertEqual(strict.json["message"]?.stringValue, "strict decoding error: unknown field \"metadata.bogus\", unknown field \"spec\"")

        // Absent means Warn, as kube-apiserver defaults it: stored without the fields, one warning each.
        let warned = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: object("extra"))
        XCTAssertEqual(warned.status, 201, warned.text)
        XCTAssertEqual(warned.headers["warning"], #"299 - "unknown field \"metadata.bogus\"", 299 - "unknown field \"spec\"""#)
        XCTAssertNil(warned.json["spec"])
        XCTAssertNil(warned.json.at("metadata", "bogus"))

        let ignored = cluster.request("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", json: object("ignored"))
        XCTAssertEqual(ignored.status, 201, ignored.text)
        XCTAssertNil(ignored.headers["warning"])
        XCTAssertNil(ignored.json["spec"])
    }

    func testSecretDataMustBeBase64AndTimesRFC3339() {
        let secret: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["password": "not base64!"]]
        let response = cluster.request("POST", "/api/v1/namespaces/default/secrets", json: secret)
        XCTAssertEqual(response.status, 400, response.text)
        XCTAssertFalse(response.text.contains("not base64!"), "the value must not be echoed: \(response.text)")
        let event: JSON = ["apiVersion": "v1", "kind": "Event", "metadata": ["name": "e"], "involvedObject": ["kind": "ConfigMap", "name": "x"],
                           "firstTimestamp": "yesterday"]
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/events", json: event).status, 400)
    }

    /// Every document is sent to the cluster and checked by kubernetes-validate against the official
    /// 1.32 schemas (strict: unknown fields refused); both must agree on accept or refuse.
    func testAcceptAndRefuseAgreeWithTheOfficialSchemas() throws {
        let documents: [(path: String, object: JSON)] = [
            ("/api/v1/namespaces/default/configmaps", configMap("ok")),
            ("/api/v1/namespaces/default/configmaps", configMap("bad-data", data: ["a": 1])),
            ("/api/v1/namespaces/default/configmaps", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "bad-labels", "labels": ["a": true]]]),
            ("/api/v1/namespaces/default/configmaps", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "unknown"], "spec": [:]]),
            ("/api/v1/namespaces/default/pods", ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "good"],
                "spec": ["containers": [["name": "c", "image": "busybox", "ports": [["containerPort": 80]],
                         "resources": ["limits": ["cpu": 1, "memory": "1Gi"]]]], "restartPolicy": "Never"]]),
            ("/api/v1/namespaces/default/pods", ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "strings"], "spec": ["containers": "nope"]]),
            ("/api/v1/namespaces/default/pods", ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "nameless"], "spec": ["containers": [["image": "x"]]]]),
            ("/api/v1/namespaces/default/pods", ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "port-text"],
                "spec": ["containers": [["name": "c", "ports": [["containerPort": "80"]]]]]]),
            ("/apis/batch/v1/namespaces/default/jobs", ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j"],
                "spec": ["backoffLimit": 2, "template": ["spec": ["containers": [["name": "c", "image": "x"]], "restartPolicy": "Never"]]]]),
            ("/apis/batch/v1/namespaces/default/jobs", ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j-bad"],
                "spec": ["parallelism": "two", "template": [:]]]),
            ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "r"],
                "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]]]]),
            ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "r-bad"],
                "rules": [["resources": ["configmaps"]]]]),
            ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "rb"],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"], "subjects": [["kind": "User", "name": "alice"]]]),
            ("/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", ["apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": ["name": "np"],
                "spec": ["podSelector": [:], "ingress": [["ports": [["port": 80], ["port": "http"]]]]]]),
            ("/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", ["apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": ["name": "np-bad"],
                "spec": ["podSelector": [:], "ingress": [["ports": [["port": true]]]]]]),
            ("/api/v1/namespaces/default/resourcequotas", ["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": "q"], "spec": ["hard": ["pods": 10, "requests.cpu": "4"]]]),
            ("/api/v1/namespaces/default/serviceaccounts", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "sa"], "automountServiceAccountToken": "yes"]),
            ("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ns-ok"], "spec": ["finalizers": ["kubernetes"]]]),
            ("/apis/apps/v1/namespaces/default/deployments", ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
                "spec": ["replicas": 2, "selector": ["matchLabels": ["app": "d"]],
                         "template": ["metadata": ["labels": ["app": "d"]], "spec": ["containers": [["name": "c", "image": "x"]]]]]]),
            ("/apis/apps/v1/namespaces/default/deployments", ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d-bad"],
                "spec": ["replicas": "2", "selector": [:], "template": [:]]]),
            ("/api/v1/namespaces/default/services", ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "svc"],
                "spec": ["ports": [["port": 80, "targetPort": "http"]], "selector": ["app": "d"]]]),
        ]
        let official = try officialVerdicts(documents.map(\.object))
        for (index, document) in documents.enumerated() {
            let response = cluster.request("POST", document.path + "?fieldValidation=Strict", json: document.object)
            let accepted = response.status == 201
            XCTAssertTrue(accepted || [400, 422].contains(response.status), response.text)
            XCTAssertEqual(accepted, official[index], "\(document.object.at("metadata", "name")?.stringValue ?? ""): cluster said \(response.status) \(response.text); the official schema says \(official[index] ? "valid" : "invalid")")
        }
    }

    /// kubernetes-validate's verdict (strict, Kubernetes 1.32) for each object.
    private func officialVerdicts(_ objects: [JSON]) throws -> [Bool] {
        let input = cluster.directory + "/documents.json"
        try JSON.array(objects).compactText.write(toFile: input, atomically: true, encoding: .utf8)
        let script = """
            import json, sys, kubernetes_validate
            verdicts = []
            for document in json.load(open(sys.argv[1])):
                try:
                    kubernetes_validate.validate(document, "1.32", strict=True)
                    verdicts.append(True)
                except kubernetes_validate.ValidationError:
                    verdicts.append(False)
            print(json.dumps(verdicts))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, input]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "kubernetes-validate is missing: run scripts/setup.sh")
        let verdicts = try JSON(parsing: data).arrayValue?.compactMap { value -> Bool? in if case .bool(let flag) = value { return flag }; return nil } ?? []
        XCTAssertEqual(verdicts.count, objects.count)
        return verdicts
    }
}

/// The OpenAPI documents carry the official schemas.
final class OpenAPITests: XCTestCase {
    func testV2ServesDefinitionsAsJSONAndProtobuf() throws {
        let cluster = try TestCluster()
        defer { cluster.stop() }
        let document = cluster.request("GET", "/openapi/v2").json
        XCTAssertEqual(document["swagger"], "2.0")
        let configMap = document.at("definitions", "io.k8s.api.core.v1.ConfigMap")
        XCTAssertEqual(configMap?.at("properties", "data", "additionalProperties", "type"), "string")
        XCTAssertEqual(configMap?["x-kubernetes-group-version-kind"], [["group": "", "version": "v1", "kind": "ConfigMap"]])
        XCTAssertEqual(document.at("definitions", "io.k8s.api.core.v1.PodSpec", "properties", "containers", "items", "$ref"),
                       "#/definitions/io.k8s.api.core.v1.Container")
        let protobuf = cluster.request("GET", "/openapi/v2", accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
        XCTAssertEqual(protobuf.status, 200)
        XCTAssertEqual(protobuf.headers["content-type"], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        // Field 1 (swagger, length-delimited) = "2.0".
        XCTAssertEqual(Array(protobuf.body.prefix(5)), [0x0A, 3, 0x32, 0x2E, 0x30])
        let v3 = cluster.request("GET", "/openapi/v3/api/v1").json
        XCTAssertEqual(v3.at("components", "schemas", "io.k8s.api.core.v1.Container", "required"), ["name"])
    }
}
