import Commands
import Foundation
import Model
import Synchronization
import TestSupport
import XCTest

/// `tenantry serve` flags and start failures (the running server: WebhooksTests' WebhookClusterTests).
final class ServeCommandTests: XCTestCase {
    private func usageError(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            _ = try ServeCommand.run(arguments, stdout: { _ in }, stderr: { _ in })
            XCTFail("no usage error for \(arguments)", file: file, line: line)
        } catch let error as UsageError {
            return error.message
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return nil
    }

    func testBadFlagsAreUsageErrorsThatSayWhatToDo() {
        XCTAssertEqual(usageError(["--prot", "80"]), "unknown flag --prot (did you mean --port?)")
        XCTAssertEqual(usageError(["--port", "http"]), "--port must be a number from 0 to 65535, got \"http\"")
        XCTAssertEqual(usageError(["--listen", "10.0.0.1"]), "--listen takes 127.0.0.1 or 0.0.0.0, got \"10.0.0.1\"")
        XCTAssertEqual(usageError(["--secret-file", "gitlab=/x"])?.hasPrefix("--secret-file takes SOURCE=VALUE"), true)
        XCTAssertEqual(usageError(["--secret-file", "generic=/x"])?.contains("X-API-Key"), true)
        XCTAssertEqual(usageError(["a", "b"]), "unexpected argument \"b\"; usage: tenantry serve [REPO] [flags]")
        XCTAssertEqual(usageError(["--journal"]), "flag --journal needs a value")
        XCTAssertEqual(usageError(["--reconcile", "repo"]), "with --reconcile the tenant repo comes from git (--config); drop repo")
    }

    func testASecretFileThatCannotBeReadIsAUsageErrorWithoutItsContent() throws {
        let repo = try TempRepo()
        try repo.write("tenants/good.yaml", TempRepo.tenant("good"))
        let message = usageError([repo.path, "--secret-file", "github=/nonexistent/secret"])
        XCTAssertEqual(message?.contains("cannot read the github secret file /nonexistent/secret"), true)
    }

    func testABrokenTenantRepoStopsTheStartWithExitTwo() throws {
        let repo = try TempRepo(platform: "apiVersion: nope\n")
        let errors = Mutex("")
        let code = try ServeCommand.run([repo.path, "--port", "0"], stdout: { _ in }, stderr: { text in errors.withLock { $0 += text } })
        XCTAssertEqual(code, 2)
        let text = errors.withLock { $0 }
        XCTAssertTrue(text.contains("cannot be rendered, so no webhook can be routed"), text)
    }
}
