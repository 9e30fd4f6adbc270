import Foundation
import Model
import Render
import Support
import TestSupport
import XCTest

/// The rendered objects against the official Kubernetes schemas (kubernetes-validate, strict: no unknown or
/// misspelt field), and the custom resources against the CRDs Tenantry renders for them.
final class KubernetesSchemaTests: XCTestCase {
    func run(_ executable: String, _ arguments: [String]) throws -> (code: Int32, output: String) {
        try Tool.run(executable, arguments)
    }

    private func renderedFile() throws -> (URL, RenderedRepo) {
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(PackagePaths.examples.path)))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-rendered-\(UUID().uuidString).yaml")
        try Data(ManifestWriter.write(rendered.manifests, as: .yaml).utf8).write(to: file)
        return (file, rendered)
    }

    func testBuiltInKindsPassStrictValidationAgainstKubernetes132() throws {
        let (file, rendered) = try renderedFile()
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run("kubernetes-validate", ["--strict", "--kubernetes-version", "1.32.0", "--quiet", "--no-warn", file.path])
        XCTAssertEqual(result.code, 0, result.output)
        // It must have checked something: every built-in object passes, and a broken one would fail.
        XCTAssertGreaterThan(rendered.manifests.filter { $0.reference.group != "ambient.ai" }.count, 40)
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-broken-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: broken) }
        try Data("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: n}\nspec: {hardd: {}}\n".utf8).write(to: broken)
        XCTAssertNotEqual(try run("kubernetes-validate", ["--strict", "--kubernetes-version", "1.32.0", "--quiet", broken.path]).code, 0)
    }

    func testNamespacePoliciesMatchTheRenderedCRDSchema() throws {
        let (file, _) = try renderedFile()
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import sys, yaml, jsonschema
        docs = list(yaml.safe_load_all(open(sys.argv[1])))
        schemas = {d["spec"]["names"]["kind"]: d["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
                   for d in docs if d["kind"] == "CustomResourceDefinition"}
        checked = 0
        for d in docs:
            if d["kind"] in schemas:
                jsonschema.validate(d, schemas[d["kind"]])
                checked += 1
        bad = {"apiVersion": "ambient.ai/v1alpha1", "kind": "NamespacePolicy", "metadata": {"name": "p"},
               "spec": {"models": {"allowed": ["m"], "budget": {"monthly": "lots", "currency": "USD"}}}}
        try:
            jsonschema.validate(bad, schemas["NamespacePolicy"])
            sys.exit("a bad budget passed the schema")
        except jsonschema.ValidationError:
            pass
        print(checked)
        """
        let result = try run("python3", ["-c", script, file.path])
        XCTAssertEqual(result.code, 0, result.output)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "4", "one NamespacePolicy per example namespace")
    }
}

extension KubernetesSchemaTests {
    func testASessionMatchesTheSessionCRDSchema() throws {
        let session = Session(
            name: "gh-72d3162e", namespace: "payments-prod",
            trigger: .init(source: .github, event: "issues.labeled", deliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                           payload: ["repository": "acme/payments-api", "number": 42, "title": "Fix rounding"]),
            framework: .init(type: "claude-code", version: "1.5.2", config: ["model": "claude-sonnet-4-5"]),
            constraints: .init(allowedModels: ["claude-sonnet-4-5"], budget: Amount("5000"), allowedTools: ["git"], approvalRequired: true))
        var broken = session.object
        broken["spec"] = ["trigger": ["source": "email"], "framework": ["type": "claude-code"]]
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(PackagePaths.examples.path)))
        let crd = try XCTUnwrap(rendered.platformManifests.first { $0.reference.name == "sessions.ambient.ai" })
        XCTAssertEqual(try CRDSchema.check(session.object, broken: broken, against: crd.object), "ok")
        XCTAssertEqual(session.object["spec"]?["policy"]?["modelConstraints"]?["budget"], "5000.00")
    }
}
