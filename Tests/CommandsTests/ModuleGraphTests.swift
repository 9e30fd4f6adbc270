import Foundation
import TestSupport
import XCTest

/// scripts/check-imports.sh holds the module graph: it passes on the tree as it is and fails, naming the file
/// and the rule, when a domain module imports Commands or Webhooks imports what Commands injects.
final class ModuleGraphTests: XCTestCase {
    private func check(_ sources: URL) throws -> (status: Int32, output: String) {
        try runTool(["bash", PackagePaths.root.appendingPathComponent("scripts/check-imports.sh").path, sources.path])
    }

    func testTheTreeRespectsTheGraph() throws {
        let result = try check(PackagePaths.root.appendingPathComponent("Sources"))
        XCTAssertEqual(result.status, 0, result.output)
    }

    /// A module added to Sources is written into the graph at the top of Package.swift, the README's layout table
    /// and the check script's rules, so none of the three goes stale.
    func testEveryModuleIsInTheGraphTheLayoutTableAndTheCheck() throws {
        let root = PackagePaths.root
        let modules = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
            .filter { !["CTenantry", "Commands", "tenantry", "Fuzz"].contains($0) && !$0.hasPrefix(".") }
        XCTAssertGreaterThan(modules.count, 15)
        let header = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
            .split(separator: "\n").prefix { $0.hasPrefix("//") }.joined(separator: "\n")
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let script = try String(contentsOf: root.appendingPathComponent("scripts/check-imports.sh"), encoding: .utf8)
        for module in modules {
            XCTAssertNotNil(header.range(of: "(?m)^//\\s+(<-\\s+)?\(module)\\s", options: .regularExpression), "\(module) is missing from the graph at the top of Package.swift")
            XCTAssertTrue(readme.contains("`Sources/\(module)`"), "\(module) has no row in the README's layout table")
            XCTAssertTrue(readme.contains("`\(module)`"), "\(module) is missing from the README's module graph")
            XCTAssertTrue(script.contains("[\(module)]="), "scripts/check-imports.sh has no rule for \(module)")
        }
    }

    func testAForbiddenImportFailsTheCheck() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("graph-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: PackagePaths.root.appendingPathComponent("Sources"), to: copy)
        for (module, line) in [("Webhooks", "import Plan"), ("Reconciler", "import LocalCluster"), ("Apply", "@testable import Commands"),
                               ("Webhooks", "import struct GitSync.SourceConfig")] {
            let file = copy.appendingPathComponent("\(module)/Planted.swift")
            try Data((line + "\n").utf8).write(to: file)
            let result = try check(copy)
            XCTAssertEqual(result.status, 1, "\(module): \(line)\n\(result.output)")
            XCTAssertTrue(result.output.contains("\(module)/Planted.swift:1:\(line): \(module) must not import"), result.output)
            try FileManager.default.removeItem(at: file)
        }
        XCTAssertEqual(try check(copy).status, 0, "the copy is clean again")
    }
}
