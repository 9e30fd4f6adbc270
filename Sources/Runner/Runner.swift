import Foundation
import GitSync
import HTTPClient
import Model
import Sessions

/// The reference runner, as it runs inside a session's pod: reads the session file, clones the trigger's repository,
/// runs the framework's command, collects the artifacts (the log, the workspace diff, declared outputs), uploads
/// them and writes its summary to the termination-message file. See specs/runner.md.
public enum Runner {
    public struct Options: Sendable {
        public var sessionFile: String
        /// Where Kubernetes reads the termination message (`/dev/termination-log`).
        public var terminationLog: String
        /// Where the log is written while the agent runs; a temporary directory by default.
        public var scratch: String?
        public var environment: [String: String]
        public var tls: TLSOptions

        public init(sessionFile: String = SessionFile.mountPath, terminationLog: String = "/dev/termination-log", scratch: String? = nil,
                    environment: [String: String] = ProcessInfo.processInfo.environment, tls: TLSOptions = TLSOptions()) {
            self.sessionFile = sessionFile
            self.terminationLog = terminationLog
            self.scratch = scratch
            self.environment = environment
            self.tls = tls
        }
    }

    public struct Outcome: Sendable {
        public var summary: RunnerSummary
        /// 0 when the agent succeeded; 1 otherwise (the Job then fails, and the controller reads the summary).
        public var exitCode: Int32
        /// Problems that did not stop the run (an output file missing, an upload refused), also in the log.
        public var warnings: [String]
    }

    public static let logArtifact = "runner.log"
    public static let patchArtifact = "workspace.patch"

    /// Runs one session to its end. Never throws: whatever goes wrong ends up in the summary and the exit code.
    public static func run(_ options: Options, stdout: FileHandle = .standardOutput) -> Outcome {
        var options = options
        let root = PodRoot(environment: options.environment)
        options.sessionFile = root.host(options.sessionFile)
        options.terminationLog = root.host(options.terminationLog)
        var warnings: [String] = []
        func note(_ text: String) {
            warnings.append(text)
            stdout.write(Data("tenantry runner: \(text)\n".utf8))
        }
        func finish(_ summary: RunnerSummary) -> Outcome {
            do { try Data(summary.terminationMessage.utf8).write(to: URL(fileURLWithPath: options.terminationLog)) } catch {
                note("cannot write the termination message to \(options.terminationLog): \(error.localizedDescription)")
            }
            return Outcome(summary: summary, exitCode: summary.result == .success ? 0 : 1, warnings: warnings)
        }

        var file: SessionFile
        do {
            let text = try String(contentsOfFile: options.sessionFile, encoding: .utf8)
            file = root.host(try SessionFile(json: try JSON(parsing: text)))
        } catch {
            return finish(RunnerSummary(result: .failure, summary: "cannot read the session file \(options.sessionFile): \(error)"))
        }
        func secret(_ path: String?) -> String? {
            guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return value.isEmpty ? nil : value
        }

        // The workspace: the repository at the trigger's ref, or an empty directory.
        var base: String?
        do {
            try FileManager.default.createDirectory(atPath: file.workspace, withIntermediateDirectories: true)
            if let repository = file.repository {
                stdout.write(Data("tenantry runner: cloning \(repository.url) at \(repository.ref ?? "its default branch")\n".utf8))
                base = try Workspace.clone(url: repository.url, ref: repository.ref, into: file.workspace, token: secret(file.files.gitToken))
            }
        } catch {
            return finish(RunnerSummary(result: .failure, summary: "cannot prepare the workspace: \(error)"))
        }

        let command: AgentCommand
        do { command = try AgentCommand.build(for: file, modelAPIKey: secret(file.files.modelAPIKey)) } catch {
            return finish(RunnerSummary(result: .failure, summary: error.description))
        }

        let scratch = options.scratch ?? NSTemporaryDirectory() + "tenantry-runner-\(UUID().uuidString)"
        let logPath = scratch + "/" + logArtifact
        let agent: AgentProcess.Result
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            defer { try? log.close() }
            // The agent gets the runner's environment minus nothing secret (there is none in it) plus its own.
            var environment = options.environment
            environment["TENANTRY_SESSION"] = "\(file.namespace)/\(file.name)"
            environment["TENANTRY_WORKSPACE"] = file.workspace
            agent = try AgentProcess.run(command, in: file.workspace, environment: environment, timeout: TimeInterval(file.timeoutSeconds),
                                         budget: file.budget, log: log, stdout: stdout)
        } catch {
            return finish(RunnerSummary(result: .failure, summary: "cannot start \(command.arguments[0]): \(error.localizedDescription)"))
        }

        // Artifacts: the log, the diff, the declared outputs.
        var artifacts: [(name: String, bytes: [UInt8], contentType: String)] = []
        if let data = FileManager.default.contents(atPath: logPath) {
            artifacts.append((logArtifact, Array(data.prefix(100 * 1024 * 1024)), "text/plain; charset=utf-8"))
        }
        if let base {
            do {
                let patch = try Workspace.patch(in: file.workspace, against: base)
                if !patch.isEmpty { artifacts.append((patchArtifact, Array(patch.utf8), "text/x-diff; charset=utf-8")) }
            } catch {
                note("cannot diff the workspace: \(error)")
            }
        }
        for output in file.outputs {
            switch Outputs.read(output, in: file.workspace) {
            case .success(let bytes): artifacts.append((Outputs.artifactName(output), bytes, Outputs.contentType(output)))
            case .failure(let problem): note(problem.description)
            }
        }
        let uploader = ArtifactUploader(artifactsURL: file.artifactsURL, tokenFile: file.files.serviceAccountToken, client: HTTPClient(tls: options.tls))
        var uploaded: [String] = []
        for artifact in artifacts {
            do {
                try uploader.upload(name: artifact.name, bytes: artifact.bytes, contentType: artifact.contentType)
                uploaded.append(artifact.name)
            } catch {
                note(error.description)
            }
        }

        let result: RunnerSummary.Result
        var text: String
        switch agent.stoppedFor {
        case .deadline?:
            result = .deadlineExceeded
            text = "stopped at the session's deadline (\(file.timeoutSeconds)s)"
        case .budget?:
            result = .budgetExceeded
            text = "stopped when the budget of \(file.budget?.description ?? "?") \(file.currency) was spent"
        case .terminated?:
            result = .failure
            text = "stopped: the runner was terminated (its Pod is being deleted)"
        case nil:
            result = agent.exitStatus == 0 ? .success : .failure
            text = agent.resultText ?? agent.lastLine ?? (agent.exitStatus == 0 ? "the agent finished" : "")
            if agent.exitStatus != 0 { text = "the agent exited \(agent.exitStatus)" + (text.isEmpty ? "" : ": \(text)") }
        }
        return finish(RunnerSummary(result: result, summary: String(text.prefix(RunnerSummary.maxSummaryCharacters)), usage: agent.usage,
                                    artifacts: uploaded))
    }
}
