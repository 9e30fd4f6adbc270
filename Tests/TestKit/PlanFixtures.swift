import Foundation

/// Where the example plans live, and a scratch git repository built from them with the git command line.
public enum PlanPaths {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let examples = root.appendingPathComponent("examples/plan")
    /// The GitHub webhook samples in examples/webhooks (octokit/webhooks, MIT: see the LICENSE file beside them).
    public static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/webhooks/github")

    public static func example(_ name: String) -> (base: String, head: String, expected: URL) {
        let folder = examples.appendingPathComponent(name)
        return (folder.appendingPathComponent("base").path, folder.appendingPathComponent("head").path,
                folder.appendingPathComponent("expected.md"))
    }
}

/// A temporary git repository whose commits are whole copies of example folders.
public final class PlanGitRepo {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-plan-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try git(["init", "--quiet", "--initial-branch=main"])
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public var path: String { url.path }

    /// Makes the work tree exactly `folder` (under `prefix`), commits it and returns the commit id.
    @discardableResult
    public func commit(_ folder: String, prefix: String = "", message: String) throws -> String {
        let target = prefix.isEmpty ? url : url.appendingPathComponent(prefix)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: target.path)) ?? [] where name != ".git" {
            try FileManager.default.removeItem(at: target.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: target.appendingPathComponent(name).path)
        }
        try git(["add", "--all"])
        try git(["commit", "--quiet", "--allow-empty", "--message", message])
        return try git(["rev-parse", "HEAD"])
    }

    @discardableResult
    public func git(_ arguments: [String]) throws -> String {
        try GitCLI.run(["-C", url.path] + arguments, in: nil, environment: [
            "GIT_AUTHOR_NAME": "Plan Test", "GIT_AUTHOR_EMAIL": "plan@example.com",
            "GIT_COMMITTER_NAME": "Plan Test", "GIT_COMMITTER_EMAIL": "plan@example.com",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": url.path,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
