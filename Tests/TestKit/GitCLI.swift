import Foundation

/// The git command line, for setting up and inspecting repositories in tests (the product uses libgit2).
public enum GitCLI {
    /// Runs git (found on PATH) in `directory` as a test identity and returns its standard output; a failure
    /// throws with git's words. `environment` is laid over the process's (author names, HOME, …).
    @discardableResult
    public static func run(_ arguments: [String], in directory: URL?, environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GitCLIError(description: "git \(arguments.joined(separator: " ")) failed: \(problem)")
        }
        return text
    }

    /// A bare repository at `origin` holding `files` (copied from `source`) as one commit on main.
    public static func publish(_ source: URL, as origin: URL, work: URL) throws {
        try run(["init", "-q", "--bare", "--initial-branch=main", origin.path], in: origin.deletingLastPathComponent())
        try FileManager.default.copyItem(at: source, to: work)
        try run(["init", "-q", "-b", "main"], in: work)
        try run(["add", "-A"], in: work)
        try run(["commit", "-q", "-m", "tenants"], in: work)
        try run(["push", "-q", origin.path, "main"], in: work)
    }
}

public struct GitCLIError: Error, CustomStringConvertible {
    public let description: String
}
