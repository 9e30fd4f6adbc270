import Foundation
import Model
import Render
import TestSupport
import XCTest

/// The checked-in example repos: the valid one renders cleanly, each invalid one gives exactly its expected errors.
final class ExampleRepoTests: XCTestCase {
    func testTheExampleRepoIsValidAndRendersEveryTenant() throws {
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(PackagePaths.examples.path)))
        XCTAssertEqual(rendered.diagnostics, [])
        XCTAssertEqual(rendered.tenants.map(\.name), ["docs", "payments", "support"])
        XCTAssertTrue(rendered.tenants.allSatisfy { !$0.manifests.isEmpty })
        let namespaces = rendered.manifests.filter { $0.reference.kind == "Namespace" }.map(\.reference.name)
        XCTAssertEqual(namespaces, ["docs", "payments-prod", "payments-staging", "support-agents"])
    }

    func testEveryInvalidExampleGivesExactlyItsExpectedErrors() throws {
        let cases = try FileManager.default.contentsOfDirectory(atPath: PackagePaths.invalidExamples.path).sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 15)
        for name in cases {
            let directory = PackagePaths.invalidExamples.appendingPathComponent(name)
            let expected = try String(contentsOf: directory.appendingPathComponent("expected.txt"), encoding: .utf8)
            let outcome = CLI.run(["validate", directory.path])
            XCTAssertEqual("# exit \(outcome.code)\n" + outcome.stderr, expected, "examples/invalid/\(name)")
        }
    }
}
