import Foundation
import TestKit
import TestSupport
import XCTest

/// `tenantry plan` through the real dispatcher: exit codes, stdout and stderr as a user sees them (the
/// planner itself: PlanTests).
final class PlanCommandTests: XCTestCase {
    private func tenantry(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
        let outcome = CLI.run(arguments)
        return (outcome.code, outcome.stdout, outcome.stderr)
    }

    func testEachExamplePlansToItsCheckedInMarkdownByteForByte() throws {
        for (name, code) in [("access-and-money", Int32(2)), ("invalid-head", 2), ("limits-quotas-routing", 2), ("models-tools-approval", 2),
                             ("renamed-file", 0), ("tenants-added-deleted", 1)] {
            let paths = PlanPaths.example(name)
            let result = tenantry(["plan", paths.base, paths.head, "-o", "markdown"])
            XCTAssertEqual(result.out, try String(contentsOf: paths.expected, encoding: .utf8), "examples/plan/\(name)/expected.md")
            XCTAssertEqual(result.code, code, name)
            XCTAssertEqual(result.err, "")
        }
    }

    func testOutputIsByteStableInEveryFormat() {
        let paths = PlanPaths.example("tenants-added-deleted")
        for format in ["text", "markdown", "json"] {
            let first = tenantry(["plan", paths.base, paths.head, "-o", format]).out
            let second = tenantry(["plan", paths.base, paths.head, "--output=\(format)"]).out
            XCTAssertEqual(first, second, format)
            XCTAssertFalse(first.isEmpty)
        }
    }

    func testUsageErrorsAndTheHeadPlatformBrokenExitTwo() {
        let paths = PlanPaths.example("renamed-file")
        for arguments in [[paths.base], [paths.base, paths.head, "--frobnicate"], ["--base", "main"], [paths.base, paths.head, "-o", "yaml"],
                          [paths.base, paths.head, "extra"], ["--path", "x", paths.base, paths.head]] {
            let result = tenantry(["plan"] + arguments)
            XCTAssertEqual(result.code, 2, "\(arguments)")
            XCTAssertTrue(result.err.hasSuffix("\nRun 'tenantry plan --help' for usage.\n"), "\(arguments): \(result.err)")
        }
        let broken = PlanPaths.root.appendingPathComponent("examples/invalid/broken-platform").path
        let result = tenantry(["plan", paths.base, broken])
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.out.contains("[validation]"), result.out)
    }

    func testGitRevisionsPlanLikeTheirFolders() throws {
        let repo = try PlanGitRepo()
        let paths = PlanPaths.example("access-and-money")
        try repo.commit(paths.base, prefix: "tenants-repo", message: "base")
        try repo.git(["checkout", "--quiet", "-b", "change"])
        try repo.commit(paths.head, prefix: "tenants-repo", message: "head")
        let result = tenantry(["plan", "--base", "main", "--head", "change", repo.path, "--path", "tenants-repo", "-o", "markdown"])
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.out, try String(contentsOf: paths.expected, encoding: .utf8))
    }

    func testExitCodesAreZeroForNoChangeOneForChangesTwoForGuardrailErrors() {
        for (name, code) in [("renamed-file", Int32(0)), ("tenants-added-deleted", 1), ("access-and-money", 2)] {
            let paths = PlanPaths.example(name)
            let result = tenantry(["plan", paths.base, paths.head])
            XCTAssertEqual(result.code, code, name)
            XCTAssertEqual(result.err, "", name)
            XCTAssertTrue(result.out.hasPrefix("tenantry plan: "), result.out)
        }
    }

    func testABadFlagExitsTwoNeverOne() {
        let paths = PlanPaths.example("renamed-file")
        let result = tenantry(["plan", paths.base, paths.head, "--outptu", "json"])
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.out, "")
        XCTAssertEqual(result.err, "error: unknown flag --outptu (did you mean --output?)\nRun 'tenantry plan --help' for usage.\n")
    }

    func testARevisionThatDoesNotExistExitsTwoAndSaysWhatToDo() throws {
        let repo = try PlanGitRepo()
        try repo.commit(PlanPaths.example("renamed-file").base, message: "base")
        let result = tenantry(["plan", "--base", "main", "--head", "feature", repo.path])
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.err, "error: \(repo.path): no commit \"feature\"; fetch it first (git fetch origin feature) or name a branch, tag or hash that exists\n")
    }

    func testHelpDocumentsTheExitStatus() {
        let result = tenantry(["plan", "--help"])
        XCTAssertEqual(result.code, 0)
        XCTAssertTrue(result.out.contains("Exit status: 0 no changes; 1 changes; 2 guardrail errors"), result.out)
    }
}
