import Foundation
import TestKit
import XCTest

/// A temporary bare "upstream" repository and a work clone to make commits in, driven with the
/// git command line so that the product's libgit2 code is checked against real git.
final class GitFixture {
    let root: URL
    let upstream: URL
    let work: URL
    let cache: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("gitsync-\(UUID().uuidString)")
        upstream = root.appendingPathComponent("upstream.git")
        work = root.appendingPathComponent("work")
        cache = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try git(["init", "--quiet", "--bare", "--initial-branch=main", upstream.path])
        try git(["init", "--quiet", "--initial-branch=main", work.path])
        try git(["remote", "add", "origin", upstream.path], in: work)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes `files` (nil content deletes), commits them in the work clone and returns the commit id.
    @discardableResult
    func commit(_ files: [String: String?], message: String) throws -> String {
        for (path, content) in files {
            let url = work.appendingPathComponent(path)
            if let content {
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try content.write(to: url, atomically: true, encoding: .utf8)
            } else {
                try FileManager.default.removeItem(at: url)
            }
        }
        try git(["add", "--all"], in: work)
        try git(["commit", "--quiet", "--message", message], in: work)
        return try git(["rev-parse", "HEAD"], in: work)
    }

    func push(_ refspec: String = "main", force: Bool = false) throws {
        try git(["push", "--quiet"] + (force ? ["--force"] : []) + ["origin", refspec], in: work)
    }

    /// Pulls what others (Tenantry) pushed, so the next commit goes on top of it.
    func pull() throws {
        try git(["pull", "--quiet", "--ff-only", "origin", "main"], in: work)
    }

    /// `git log --format=%s` of `ref` in the upstream repository, newest first.
    func subjects(_ ref: String = "main") throws -> [String] {
        try git(["log", "--format=%s", ref], in: upstream).split(separator: "\n").map(String.init)
    }

    func upstreamHead(_ ref: String = "main") throws -> String {
        try git(["rev-parse", ref], in: upstream)
    }

    /// Runs `git fsck --full`; throws when git reports a problem.
    func fsck(_ repository: URL) throws {
        try git(["fsck", "--full", "--no-progress"], in: repository)
    }

    @discardableResult
    func git(_ arguments: [String], in directory: URL? = nil) throws -> String {
        try GitCLI.run((directory.map { ["-C", $0.path] } ?? []) + arguments, in: nil, environment: [
            "GIT_AUTHOR_NAME": "Upstream Author", "GIT_AUTHOR_EMAIL": "author@example.com",
            "GIT_COMMITTER_NAME": "Upstream Author", "GIT_COMMITTER_EMAIL": "author@example.com",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": root.path,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
