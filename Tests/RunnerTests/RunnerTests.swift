import Artifacts
import Foundation
import HTTPServer
import Model
import Sessions
import TestSupport
import XCTest
@testable import Runner

/// A small artifact endpoint that records every PUT, as Tenantry's would receive them.
final class ArtifactSink: @unchecked Sendable {
    struct Upload: Equatable {
        let path: String
        let authorization: String?
        let contentType: String?
        let body: Data
    }

    private let lock = NSLock()
    private var uploads: [Upload] = []
    /// Names answered 403 with a Kubernetes Status.
    let refuse: Set<String>
    private var server: HTTPServer!
    var url: String { "http://127.0.0.1:\(server.port)/api/v1/namespaces/payments-staging/sessions/gh-1/artifacts" }

    init(refuse: Set<String> = []) throws {
        self.refuse = refuse
        var configuration = HTTPServer.Configuration()
        configuration.maxBodyBytes = 16 * 1024 * 1024
        server = try HTTPServer(configuration) { [unowned self] request in self.handle(request) }
    }

    private func handle(_ request: Request) -> Response {
        guard request.method == "PUT" else { return Response(status: 405) }
        let name = request.path.split(separator: "/").last.map(String.init) ?? ""
        if refuse.contains(name) {
            let status = #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"artifacts \"\#(name)\" is forbidden","reason":"Forbidden","code":403}"#
            return Response(status: 403, headers: ["Content-Type": "application/json"], body: Data(status.utf8))
        }
        lock.lock()
        uploads.append(Upload(path: request.path, authorization: request.headers["authorization"], contentType: request.headers["content-type"], body: request.body))
        lock.unlock()
        return Response(status: 201)
    }

    var received: [Upload] { lock.lock(); defer { lock.unlock() }; return uploads }
    func upload(_ name: String) -> Upload? { received.first { $0.path.hasSuffix("/artifacts/\(name)") } }
    func stop() { server.stop() }
}

final class RunnerTests: XCTestCase {
    private var base: URL!
    private var origin: URL!
    private var sink: ArtifactSink!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        // An origin with main (README) and feature (README + FEATURE).
        let source = base.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data("# payments-api\n".utf8).write(to: source.appendingPathComponent("README.md"))
        origin = base.appendingPathComponent("origin.git")
        let work = base.appendingPathComponent("work")
        try GitCLI.publish(source, as: origin, work: work)
        try GitCLI.run(["checkout", "-q", "-b", "feature"], in: work)
        try Data("feature\n".utf8).write(to: work.appendingPathComponent("FEATURE"))
        try GitCLI.run(["add", "-A"], in: work)
        try GitCLI.run(["commit", "-q", "-m", "feature"], in: work)
        try GitCLI.run(["push", "-q", origin.path, "feature"], in: work)
        try Data("tok-123\n".utf8).write(to: base.appendingPathComponent("token"))
        sink = try ArtifactSink(refuse: ["refused.txt"])
    }

    override func tearDownWithError() throws {
        sink?.stop()
        try? FileManager.default.removeItem(at: base)
    }

    private func sessionFile(command: String?, framework: String = "script", ref: String? = "feature", repository: Bool = true,
                             timeout: Int = 600, budget: Amount? = nil, outputs: [String] = [], artifactsURL: String? = nil) throws -> String {
        var config: JSONObject = [:]
        if let command { config["command"] = .string(command) }
        let file = SessionFile(
            name: "gh-1", namespace: "payments-staging", uid: "u-1",
            trigger: .init(source: .github, event: "issues.labeled", payload: ["repository": "acme/payments-api", "title": "Fix it"]),
            framework: .init(type: framework, version: "0.1.0", config: config), model: "claude-sonnet-4-5", allowedTools: ["git", "file-edit"],
            budget: budget, currency: "USD", timeoutSeconds: timeout,
            repository: repository ? .init(url: origin.path, ref: ref) : nil,
            artifactsURL: artifactsURL ?? sink.url, outputs: outputs, workspace: base.appendingPathComponent("workspace").path,
            files: .init(serviceAccountToken: base.appendingPathComponent("token").path, modelAPIKey: nil, gitToken: nil))
        let path = base.appendingPathComponent("session.json").path
        try Data(file.json.prettyText.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func run(_ sessionFile: String) throws -> (Runner.Outcome, output: String, termination: RunnerSummary) {
        let outputPath = base.appendingPathComponent("stdout-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let termination = base.appendingPathComponent("termination-log").path
        let outcome = Runner.run(.init(sessionFile: sessionFile, terminationLog: termination, scratch: base.appendingPathComponent("scratch-\(UUID().uuidString)").path),
                                 stdout: handle)
        try handle.close()
        let output = try String(contentsOfFile: outputPath, encoding: .utf8)
        let summary = try RunnerSummary(terminationMessage: try String(contentsOfFile: termination, encoding: .utf8))
        return (outcome, output, summary)
    }

    func testAScriptRunsInTheClonedRefAndItsArtifactsAreUploadedWithTheToken() throws {
        let script = """
        test -f FEATURE || { echo "not on feature"; exit 9; }
        echo hello from the agent
        echo changed >> README.md
        mkdir -p out && echo '# report' > out/report.md
        echo refused > refused.txt
        echo '{"type":"usage","inputTokens":5,"outputTokens":7,"cost":"0.10"}'
        echo all good
        """
        let (outcome, output, termination) = try run(try sessionFile(command: script, outputs: ["out/report.md", "missing.txt", "../token", "refused.txt"]))
        XCTAssertEqual(outcome.exitCode, 0, output)
        XCTAssertEqual(termination, outcome.summary)
        XCTAssertEqual(outcome.summary.result, .success)
        XCTAssertEqual(outcome.summary.summary, "all good")
        XCTAssertEqual(outcome.summary.usage, .init(inputTokens: 5, outputTokens: 7, cost: Amount("0.10")))
        XCTAssertTrue(output.contains("hello from the agent"), "the agent's output streams to stdout")
        XCTAssertEqual(outcome.summary.artifacts, ["runner.log", "workspace.patch", "out_report.md"])

        let log = try XCTUnwrap(sink.upload("runner.log"))
        XCTAssertEqual(log.authorization, "Bearer tok-123")
        XCTAssertEqual(log.contentType, "text/plain; charset=utf-8")
        XCTAssertTrue(String(decoding: log.body, as: UTF8.self).contains("hello from the agent"))
        let patch = String(decoding: try XCTUnwrap(sink.upload("workspace.patch")).body, as: UTF8.self)
        XCTAssertTrue(patch.contains("+changed"), patch)
        XCTAssertTrue(patch.contains("b/out/report.md"), "untracked files are in the patch: \(patch)")
        XCTAssertFalse(patch.contains("FEATURE"), "only what the agent changed")
        XCTAssertEqual(String(decoding: try XCTUnwrap(sink.upload("out_report.md")).body, as: UTF8.self), "# report\n")
        XCTAssertEqual(sink.upload("out_report.md")?.contentType, "text/markdown; charset=utf-8")
        XCTAssertEqual(outcome.warnings.count, 3, "\(outcome.warnings)")
        XCTAssertTrue(outcome.warnings.contains { $0.contains("output missing.txt was not written") })
        XCTAssertTrue(outcome.warnings.contains { $0.contains("output ../token is not a path inside the workspace") })
        XCTAssertTrue(outcome.warnings.contains { $0.contains("HTTP 403: artifacts \"refused.txt\" is forbidden") })
        XCTAssertFalse(output.contains("tok-123"), "the token is never printed")
    }

    /// The whole path: the runner's PUTs through the artifact API (its token authenticated, its Pod checked) into a store.
    func testArtifactsReachTheStoreThroughTheArtifactAPI() throws {
        let store = LocalArtifactStore(root: base.appendingPathComponent("artifacts").path)
        let api = ArtifactAPI(store: store,
                              authenticate: { $0 == "tok-123" ? .init(username: "system:serviceaccount:payments-staging:session-runner", podName: "gh-1-run-x7k2p") : nil },
                              session: { _, name in name == "gh-1" ? .found(podName: "gh-1-run-x7k2p") : .notFound },
                              mayRead: { _, _ in false })
        var configuration = HTTPServer.Configuration()
        configuration.maxBodyBytes = ArtifactLimits.defaultMaxBytes
        let server = try HTTPServer(configuration) { api.handle($0) ?? Response(status: 404) }
        defer { server.stop() }
        let path = try sessionFile(command: "echo done > result.txt; echo finished", outputs: ["result.txt"],
                                   artifactsURL: "http://127.0.0.1:\(server.port)/api/v1/namespaces/payments-staging/sessions/gh-1/artifacts")
        let (outcome, output, _) = try run(path)
        XCTAssertEqual(outcome.summary.artifacts, ["runner.log", "workspace.patch", "result.txt"], output)
        XCTAssertEqual(outcome.warnings, [])
        let stored = try store.list(namespace: "payments-staging", session: "gh-1")
        XCTAssertEqual(stored.map(\.key.name), ["result.txt", "runner.log", "workspace.patch"])
        XCTAssertEqual(stored.map(\.contentType), ["text/plain; charset=utf-8", "text/plain; charset=utf-8", "text/x-diff; charset=utf-8"])
        XCTAssertEqual(try store.get(try ArtifactKey(namespace: "payments-staging", session: "gh-1", name: "result.txt"), range: nil).bytes,
                       Array("done\n".utf8))
    }

    func testTheDefaultBranchAndACommitIDCheckOut() throws {
        let (outcome, output, _) = try run(try sessionFile(command: "test ! -f FEATURE && echo on main", ref: nil))
        XCTAssertEqual(outcome.summary.summary, "on main", output)
        let feature = try GitCLI.run(["rev-parse", "feature"], in: origin).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.removeItem(at: base.appendingPathComponent("workspace"))
        let (byID, _, _) = try run(try sessionFile(command: "git rev-parse HEAD", ref: feature))
        XCTAssertEqual(byID.summary.summary, feature)
        try FileManager.default.removeItem(at: base.appendingPathComponent("workspace"))
        let (missing, _, _) = try run(try sessionFile(command: "true", ref: "no-such-branch"))
        XCTAssertEqual(missing.summary.result, .failure)
        XCTAssertTrue(missing.summary.summary.contains("has no ref \"no-such-branch\""), missing.summary.summary)
    }

    func testAFailingAgentFailsTheRunWithItsLastWords() throws {
        let (outcome, _, termination) = try run(try sessionFile(command: "echo tests do not pass; exit 3", repository: false))
        XCTAssertEqual(outcome.exitCode, 1)
        XCTAssertEqual(termination.result, .failure)
        XCTAssertEqual(termination.summary, "the agent exited 3: tests do not pass")
        XCTAssertEqual(termination.artifacts, ["runner.log"], "no repository, no patch")
    }

    /// The deadline stops the whole process group: the shell and what it started.
    func testTheDeadlineStopsTheAgentAndEverythingItStarted() throws {
        let pids = base.appendingPathComponent("pids").path
        let (outcome, _, termination) = try run(try sessionFile(command: "sleep 300 & echo $! > \(pids); wait; echo never", repository: false, timeout: 1))
        XCTAssertEqual(termination.result, .deadlineExceeded)
        XCTAssertEqual(outcome.exitCode, 1)
        let child = try XCTUnwrap(Int32(try String(contentsOfFile: pids, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertTrue(gone(child), "the background sleep was killed with its group")
    }

    func testSpendingTheBudgetStopsTheAgent() throws {
        let script = """
        echo '{"type":"usage","inputTokens":100,"outputTokens":10,"cost":"0.50"}'
        echo '{"type":"usage","inputTokens":300,"outputTokens":30,"cost":"1.20"}'
        sleep 300
        """
        let (_, _, termination) = try run(try sessionFile(command: script, repository: false, budget: Amount("1.00")))
        XCTAssertEqual(termination.result, .budgetExceeded)
        XCTAssertEqual(termination.usage.cost, Amount("1.20"))
        XCTAssertTrue(termination.summary.contains("budget of 1.00 USD"), termination.summary)
    }

    func testWhatCannotStartFailsWithAClearSummary() throws {
        let (noCommand, _, _) = try run(try sessionFile(command: nil, repository: false))
        XCTAssertEqual(noCommand.summary.summary, "framework \"script\" needs framework.config.command (a shell command); the session has none")
        let (unknown, _, _) = try run(try sessionFile(command: "true", framework: "aider", repository: false))
        XCTAssertTrue(unknown.summary.summary.contains("does not know framework \"aider\""))
        let (missing, _, _) = try run(base.appendingPathComponent("nowhere.json").path)
        XCTAssertEqual(missing.exitCode, 1)
        XCTAssertTrue(missing.summary.summary.hasPrefix("cannot read the session file"), missing.summary.summary)
    }

    func testTheRunnerCommandRunsTheSessionAndExitsWithItsResult() throws {
        let termination = base.appendingPathComponent("cli-termination-log").path
        let failing = CLI.run(["runner", "--session-file", try sessionFile(command: "echo nope; exit 1", repository: false),
                               "--termination-log", termination])
        XCTAssertEqual(failing.code, 1)
        XCTAssertEqual(failing.stderr, "tenantry runner: failure: the agent exited 1: nope\n")
        XCTAssertEqual(try RunnerSummary(terminationMessage: try String(contentsOfFile: termination, encoding: .utf8)).result, .failure)
        XCTAssertEqual(CLI.run(["runner", "--sesion-file", "x"]).code, 2)
        XCTAssertTrue(CLI.run(["runner", "--sesion-file", "x"]).stderr.contains("did you mean --session-file?"))
        XCTAssertTrue(CLI.run(["runner", "--help"]).stdout.contains("specs/runner.md"))
    }

    /// Gone, or a zombie nobody reaped yet (the test process is not its parent): either way, not running.
    private func gone(_ pid: Int32) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            if let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return true }
            usleep(50_000)
        }
        return false
    }
}

final class AgentCommandTests: XCTestCase {
    private func file(_ framework: String, tools: [String] = ["git", "file-edit", "jira-api"]) -> SessionFile {
        SessionFile(name: "gh-1", namespace: "ns", uid: "u", trigger: .init(source: .github, event: "issue_comment.created",
                                                                          payload: ["repository": "acme/api", "title": "Fix rounding", "body": "Totals are off", "command": "/agent fix it"]),
                    framework: .init(type: framework, version: "1.5.2", config: [:]), model: "claude-sonnet-4-5", allowedTools: tools,
                    budget: nil, currency: "USD", timeoutSeconds: 60, repository: nil, artifactsURL: "http://x", outputs: [], workspace: "/workspace",
                    files: .init(serviceAccountToken: "/t", modelAPIKey: nil, gitToken: nil))
    }

    func testClaudeCodeRunsNonInteractivelyWithTheModelAndAllowedTools() throws {
        let command = try AgentCommand.build(for: file("claude-code"), modelAPIKey: "sk-test")
        XCTAssertEqual(command.arguments, [
            "claude", "-p", "Repository: acme/api\nTitle: Fix rounding\n\nTotals are off\n\nRequest: /agent fix it",
            "--model", "claude-sonnet-4-5", "--output-format", "stream-json", "--verbose",
            "--allowedTools", "Bash(git:*),Read,Edit,Write,Glob,Grep",
        ])
        XCTAssertEqual(command.environment, ["ANTHROPIC_API_KEY": "sk-test"])
        XCTAssertFalse(try AgentCommand.build(for: file("claude-code", tools: []), modelAPIKey: nil).arguments.contains("--allowedTools"))
    }

    func testUsageIsFollowedLineByLineAcrossChunks() {
        var meter = UsageMeter()
        meter.feed(Array(#"{"type":"assistant","message":{}}"#.utf8) + [10] + Array(#"{"type":"res"#.utf8))
        meter.feed(Array(#"ult","result":"Opened PR #7","total_cost_usd":0.0123456789,"usage":{"input_tokens":1200,"output_tokens":300}}"#.utf8) + [10])
        XCTAssertEqual(meter.usage, .init(inputTokens: 1200, outputTokens: 300, cost: Amount("0.012345")))
        XCTAssertEqual(meter.resultText, "Opened PR #7")
        meter.feed(Array("not json\n{broken\n".utf8) + Array(#"{"type":"usage","cost":"2"}"#.utf8) + [10])
        XCTAssertEqual(meter.usage.cost, Amount("2"))
        XCTAssertEqual(meter.usage.inputTokens, 1200, "a usage line without tokens keeps the count")
        meter.feed(Array(#"{"type":"usage","cost":-1,"inputTokens":-5}"#.utf8) + [10])
        XCTAssertEqual(meter.usage, .init(inputTokens: 1200, outputTokens: 300, cost: Amount("2")), "negative values are ignored")
    }
}
