import Foundation
import Model
import Render
import Commands

/// The package's own folders, found from this file.
public enum PackagePaths {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let examples = root.appendingPathComponent("examples/tenants")
    public static let invalidExamples = root.appendingPathComponent("examples/invalid")
}

/// A tenant repo in a fresh temporary folder, written file by file.
public final class TempRepo {
    public let url: URL

    public init(platform: String? = TempRepo.platform) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        if let platform { try write("platform.yaml", platform) }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public var path: String { url.path }

    public func write(_ relative: String, _ text: String) throws {
        try write(relative, Data(text.utf8))
    }

    public func write(_ relative: String, _ data: Data) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    public func validate() throws -> ValidatedRepo { try RepoValidator.validate(try RepoLoader.load(path)) }
    public func render() throws -> RenderedRepo { Renderer.render(try validate()) }

    /// The platform file of the examples.
    public static let platform = try! String(contentsOf: PackagePaths.examples.appendingPathComponent("platform.yaml"), encoding: .utf8)

    /// A small valid tenant; `extra` is appended at top level.
    public static func tenant(_ name: String, namespaces: [String]? = nil, extra: String = "") -> String {
        let list = (namespaces ?? [name]).map { "  - name: \($0)\n" }.joined()
        return """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: \(name)
        namespaces:
        \(list)members:
          - user: ada@example.com
            role: admin
        policy:
          models:
            allowed: [claude-sonnet-4-5]
          budget:
            monthly: "100.00"

        """ + extra
    }
}

extension TenantResult {
    public var messages: [String] { diagnostics.map(\.description) }
}

/// Runs the `tenantry` command line in-process and captures what it printed.
public enum CLI {
    public struct Outcome {
        public let code: Int32
        public let stdout: String
        public let stderr: String
    }

    public static func run(_ arguments: [String]) -> Outcome {
        let out = Buffer(), err = Buffer()
        let code = Tenantry.run(arguments, console: Console(out: { out.append($0) }, err: { err.append($0) }))
        return Outcome(code: code, stdout: out.text, stderr: err.text)
    }

    final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [String] = []
        func append(_ text: String) { lock.lock(); parts.append(text); lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return parts.joined() }
    }
}

/// The git command line, for setting up and inspecting repositories in tests (the product uses libgit2).
public enum GitCLI {
    /// Runs git in `directory` as a test identity and returns its standard output; a failure throws with git's words.
    @discardableResult
    public static func run(_ arguments: [String], in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments
        process.currentDirectoryURL = directory
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
