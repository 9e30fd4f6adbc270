import Commands
import Foundation
import XCTest

/// `tenantry plan` through the real dispatcher: exit codes, stdout and stderr as a user sees them.
final class PlanCommandLineTests: XCTestCase {
    private func tenantry(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
        let out = Output(), err = Output()
        let code = Tenantry.run(arguments, console: Console(out: { out.append($0) }, err: { err.append($0) }))
        return (code, out.value, err.value)
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
