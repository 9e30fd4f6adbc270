import Foundation
import TestKit
import XCTest

/// Where the example plans live, and a scratch git repository built from them with the git command line.
enum PlanPaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appendingPathComponent("examples/plan")
    /// The GitHub webhook samples in examples/webhooks (octokit/webhooks, MIT: see the LICENSE file beside them).
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/webhooks/github")

    static func example(_ name: String) -> (base: String, head: String, expected: URL) {
        let folder = examples.appendingPathComponent(name)
        return (folder.appendingPathComponent("base").path, folder.appendingPathComponent("head").path,
                folder.appendingPathComponent("expected.md"))
    }
}

/// A temporary git repository whose commits are whole copies of example folders.
final class PlanGitRepo {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-plan-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try git(["init", "--quiet", "--initial-branch=main"])
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var path: String { url.path }

    /// Makes the work tree exactly `folder` (under `prefix`), commits it and returns the commit id.
    @discardableResult
    func commit(_ folder: String, prefix: String = "", message: String) throws -> String {
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
    func git(_ arguments: [String]) throws -> String {
        try GitCLI.run(["-C", url.path] + arguments, in: nil, environment: [
            "GIT_AUTHOR_NAME": "Plan Test", "GIT_AUTHOR_EMAIL": "plan@example.com",
            "GIT_COMMITTER_NAME": "Plan Test", "GIT_COMMITTER_EMAIL": "plan@example.com",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": url.path,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Collects what a command writes.
final class Output: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ piece: String) { lock.lock(); text += piece; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}
