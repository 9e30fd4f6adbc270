import Foundation
import Model
import Support
import TestSupport
import XCTest

/// specs/contracts/sessions.yaml: valid OpenAPI 3 (openapi-spec-validator), and complete in the ways
/// the issue asks: every endpoint, bearer security, 401 and 429 everywhere, 403 and 404 wherever a
/// namespace is named, errors in the webhook contract's shape.
final class SessionsContractTests: XCTestCase {
    static let path = PackagePaths.root.appendingPathComponent("specs/contracts/sessions.yaml").path

    private func spec() throws -> JSON {
        try XCTUnwrap(try YAML.parseDocument(Array(try Data(contentsOf: URL(fileURLWithPath: Self.path))))?.json)
    }

    func testTheContractIsValidOpenAPI() throws {
        let (code, text) = try Tool.run("python3", ["-c", "import sys, yaml\nfrom openapi_spec_validator import validate\nvalidate(yaml.safe_load(open(sys.argv[1])))\nprint('valid')", Self.path])
        XCTAssertEqual(code, 0, "openapi-spec-validator (scripts/setup.sh installs it): \(text)")
        XCTAssertEqual(text, "valid\n")
    }

    func testEveryEndpointOfTheIssueIsThereWithItsAuthAnswers() throws {
        let spec = try spec()
        let base = "/api/v1/namespaces/{namespace}"
        let expected: [(String, String)] = [
            ("/api/v1/whoami", "get"), ("/api/v1/user/namespaces", "get"),
            ("\(base)/sessions", "get"), ("\(base)/sessions", "post"), ("\(base)/sessions/{session}", "get"),
            ("\(base)/sessions/{session}/artifacts", "get"), ("\(base)/sessions/{session}/artifacts/{name}", "get"),
            ("\(base)/sessions/{session}/artifacts/{name}", "put"), ("\(base)/sessions/{session}/logs", "get"),
            ("\(base)/sessions/{session}/stop", "post"), ("\(base)/sessions/{session}/approve", "post"),
            ("\(base)/sessions/{session}/reject", "post"), ("\(base)/sessions/{session}/rerun", "post"),
            ("\(base)/events", "get"), ("\(base)/audit", "get"),
        ]
        let paths = try XCTUnwrap(spec["paths"]?.objectValue)
        let declared = paths.pairs.flatMap { path, item in (item.objectValue?.keys ?? []).filter { $0 != "parameters" }.map { (path, $0) } }
        XCTAssertEqual(Set(declared.map { "\($0.0) \($0.1)" }), Set(expected.map { "\($0.0) \($0.1)" }))
        XCTAssertEqual(spec["security"], [["bearer": []]])
        XCTAssertEqual(spec["components"]?["securitySchemes"]?["bearer"]?["scheme"], "bearer")
        for (path, method) in expected {
            let responses = try XCTUnwrap(spec["paths"]?[path]?[method]?["responses"]?.objectValue, "\(method) \(path)")
            var needed = ["401", "429"]
            // The events stream names no session, and a namespace that does not exist is the same 403: it never answers 404.
            if path.contains("{namespace}") { needed += path.hasSuffix("/events") ? ["403"] : ["403", "404"] }
            for status in needed { XCTAssertNotNil(responses[status], "\(method.uppercased()) \(path) declares no \(status)") }
            XCTAssertNotNil(spec["paths"]?[path]?[method]?["x-kubernetes-verb"], "\(method) \(path) names no RBAC verb")
        }
        let error = try XCTUnwrap(spec["components"]?["schemas"]?["Error"])
        XCTAssertEqual(error["required"], ["error", "message", "details", "traceId"])
        XCTAssertNotNil(spec["components"]?["responses"]?["Unauthenticated"]?["headers"]?["WWW-Authenticate"])
        XCTAssertEqual(spec["components"]?["parameters"]?["Namespace"]?["schema"]?["pattern"], "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    }
}
