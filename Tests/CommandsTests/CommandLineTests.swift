import Foundation
import Model
import TestSupport
import XCTest

/// The `tenantry` command line: what goes to stdout and stderr, and the exit codes it promises.
final class CommandLineTests: XCTestCase {
    private let examples = PackagePaths.examples.path

    func testValidateAValidRepoExitsZeroWithASummary() {
        let outcome = CLI.run(["validate", examples])
        XCTAssertEqual(outcome.code, 0)
        XCTAssertEqual(outcome.stdout, "3 tenants: 3 valid, 0 invalid\n")
        XCTAssertEqual(outcome.stderr, "")
    }

    func testRenderWritesManifestsToStdoutAndNothingElse() throws {
        let yaml = CLI.run(["render", examples])
        XCTAssertEqual(yaml.code, 0)
        XCTAssertEqual(yaml.stderr, "")
        XCTAssertTrue(yaml.stdout.hasPrefix("---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"))
        let json = CLI.run(["render", examples, "-o", "json"])
        let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(list?["kind"] as? String, "List")
        XCTAssertEqual((list?["items"] as? [Any])?.count, 62)
        XCTAssertEqual(CLI.run(["render", examples, "--output=json"]).stdout, json.stdout)
    }

    func testAnInvalidTenantExitsOneAndTheOthersStillRender() throws {
        let repo = try TempRepo()
        try repo.write("tenants/good.yaml", TempRepo.tenant("good"))
        try repo.write("tenants/bad.yaml", TempRepo.tenant("bad").replacingOccurrences(of: "role: admin", with: "role: owner"))
        let outcome = CLI.run(["render", repo.path])
        XCTAssertEqual(outcome.code, 1)
        XCTAssertTrue(outcome.stdout.contains("namespace: good"))
        XCTAssertFalse(outcome.stdout.contains("tenantry.dev/tenant: bad"))
        XCTAssertEqual(outcome.stderr, """
        tenants/bad.yaml:8:11: members[0].role: unknown value "owner"; expected one of "viewer", "editor", "admin"
        error: 1 tenant not rendered (bad); the others were

        """)
        XCTAssertEqual(CLI.run(["validate", repo.path]).code, 1)
    }

    func testABrokenPlatformFileExitsTwo() throws {
        let repo = try TempRepo(platform: "apiVersion: tenantry.dev/v1alpha1\nkind: Platform\n")
        try repo.write("tenants/good.yaml", TempRepo.tenant("good"))
        let outcome = CLI.run(["render", repo.path])
        XCTAssertEqual(outcome.code, 2)
        XCTAssertEqual(outcome.stdout, "")
        XCTAssertTrue(outcome.stderr.hasPrefix("platform.yaml:1:1: missing required field \"budget\"\n"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.hasSuffix("error: the tenant repo cannot be rendered until this is fixed; no tenant was rendered\n"))
    }

    func testMachineReadableErrors() throws {
        let repo = try TempRepo()
        try repo.write("tenants/bad.yaml", TempRepo.tenant("bad").replacingOccurrences(of: "\"100.00\"", with: "lots"))
        let outcome = CLI.run(["validate", repo.path, "--format", "json"])
        XCTAssertEqual(outcome.code, 1)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["valid"] as? Bool, false)
        let diagnostic = try XCTUnwrap((report["diagnostics"] as? [[String: Any]])?.first)
        XCTAssertEqual(diagnostic["file"] as? String, "tenants/bad.yaml")
        XCTAssertEqual(diagnostic["line"] as? Int, 13)
        XCTAssertEqual(diagnostic["column"] as? Int, 14)
        XCTAssertEqual(diagnostic["field"] as? String, "policy.budget.monthly")
        XCTAssertEqual(diagnostic["tenant"] as? String, "bad")
        let rendered = CLI.run(["render", repo.path, "--format", "json"])
        XCTAssertEqual(rendered.code, 1)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(rendered.stderr.utf8)), "render's JSON errors go to stderr")
    }

    func testOneTenantOnly() {
        let outcome = CLI.run(["render", examples, "--tenant", "docs"])
        XCTAssertEqual(outcome.code, 0)
        XCTAssertFalse(outcome.stdout.contains("CustomResourceDefinition"))
        XCTAssertFalse(outcome.stdout.contains("tenantry.dev/tenant: payments"))
        XCTAssertTrue(outcome.stdout.contains("tenantry.dev/tenant: docs"))
        let typo = CLI.run(["render", examples, "--tenant", "dosc"])
        XCTAssertEqual(typo.code, 2)
        XCTAssertTrue(typo.stderr.contains("no tenant named \"dosc\""), typo.stderr)
    }

    func testOutputDirectoryHoldsOneFilePerTenantAndForgetsRemovedOnes() throws {
        let repo = try TempRepo()
        for name in ["alpha", "beta"] { try repo.write("tenants/\(name).yaml", TempRepo.tenant(name)) }
        let out = repo.url.appendingPathComponent("out").path
        try repo.write("out/keep-me.txt", "not ours")
        XCTAssertEqual(CLI.run(["render", repo.path, "--out", out]).code, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(),
                       [".tenantry-rendered", "_platform.yaml", "alpha.yaml", "beta.yaml", "keep-me.txt"])
        // beta turns invalid (its last good file stays), alpha leaves the repo (its file goes).
        try FileManager.default.removeItem(atPath: repo.url.appendingPathComponent("tenants/alpha.yaml").path)
        let betaBefore = try String(contentsOfFile: out + "/beta.yaml", encoding: .utf8)
        try repo.write("tenants/beta.yaml", TempRepo.tenant("beta") + "bogus: 1\n")
        XCTAssertEqual(CLI.run(["render", repo.path, "--out", out]).code, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(),
                       [".tenantry-rendered", "_platform.yaml", "beta.yaml", "keep-me.txt"])
        XCTAssertEqual(try String(contentsOfFile: out + "/beta.yaml", encoding: .utf8), betaBefore)
    }

    func testUsageErrorsExitTwoWithAHint() {
        let flag = CLI.run(["render", examples, "--outptu", "x"])
        XCTAssertEqual(flag.code, 2)
        XCTAssertEqual(flag.stderr, "error: unknown flag --outptu (did you mean --output?)\nRun 'tenantry render --help' for usage.\n")
        let format = CLI.run(["render", examples, "-o", "xml"])
        XCTAssertEqual(format.code, 2)
        XCTAssertTrue(format.stderr.contains("flag --output must be one of yaml, json, got \"xml\""))
        let command = CLI.run(["rendr"])
        XCTAssertEqual(command.code, 2)
        XCTAssertTrue(command.stderr.contains("unknown command \"rendr\" (did you mean \"render\"?)"))
        XCTAssertEqual(CLI.run(["render", "/nonexistent/repo"]).code, 2)
        XCTAssertEqual(CLI.run(["validate", "a", "b"]).code, 2)
    }

    func testHelpAndVersion() {
        let help = CLI.run(["--help"])
        XCTAssertEqual(help.code, 0)
        for command in ["validate", "render", "source", "status", "bench", "version"] {
            XCTAssertTrue(help.stdout.contains("  \(command) "), command)
        }
        XCTAssertTrue(CLI.run(["render", "--help"]).stdout.contains("Exit codes: 0 every tenant rendered; 1 some tenant invalid"))
        XCTAssertEqual(CLI.run(["help", "validate"]).stdout, CLI.run(["validate", "--help"]).stdout)
        XCTAssertTrue(CLI.run(["version"]).stdout.hasPrefix("tenantry "))
    }

    func testTheBenchmarkReportsEveryPhase() {
        let outcome = CLI.run(["bench", "render", "--tenants", "20"])
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasPrefix("tenantry bench render: 20 tenants, "), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains(", 0 invalid"), "generated tenants are valid")
        for phase in ["load", "validate", "render", "serialise", "total", "peak memory"] {
            XCTAssertTrue(outcome.stdout.contains(phase), phase)
        }
        XCTAssertEqual(CLI.run(["bench", "render", "--tenants", "0"]).code, 2)
    }
}
