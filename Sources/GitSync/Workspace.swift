import CTenantry
import Foundation

/// A session runner's working copy: the trigger's repository cloned at the right ref, and afterwards the
/// agent's changes as one patch. Both with libgit2.
public enum Workspace {
    /// Clones `url` into `directory` (created, or empty) and checks out `ref`: a commit id, a branch, a tag, or the
    /// remote's default branch when nil. A token, when given, is sent as the password of HTTP basic auth.
    /// Returns the commit checked out, which `patch` diffs against.
    public static func clone(url: String, ref: String?, into directory: String, token: String?) throws(GitError) -> String {
        let repository = try GitRepository.create(at: directory)
        try repository.setRemote("origin", url: url)
        let credentials = token.map { GitCredentials.userPassword(username: CredentialSource.defaultTokenUsername, password: $0) }
        try repository.fetch(remote: "origin", refspecs: ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
                                                          "+HEAD:refs/remotes/origin/HEAD"], credentials: credentials)
        var commit: ObjectID?
        if let ref {
            if let id = ObjectID(hex: ref) {
                // A commit no branch points at (a pull request's head): ask for it by id, as GitHub allows.
                if !repository.containsCommit(id) {
                    try repository.fetch(remote: "origin", refspecs: ["+refs/pull/*/head:refs/remotes/origin/pull/*"], credentials: credentials)
                }
                commit = repository.containsCommit(id) ? id : nil
            } else {
                let branch = ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : ref
                let candidates = ref.hasPrefix("refs/tags/") ? [ref] : ["refs/remotes/origin/\(branch)", "refs/tags/\(ref)"]
                for name in candidates {
                    if let found = try repository.commit(ofReference: name) { commit = found; break }
                }
            }
        } else {
            commit = try repository.commit(ofReference: "refs/remotes/origin/HEAD")
        }
        guard let commit else {
            throw GitError(code: -3, errorClass: 0,
                           message: "\(url) has no \(ref.map { "ref \"\($0)\"" } ?? "default branch") to check out (looked for a commit, a branch and a tag)")
        }
        try repository.checkOut(commit)
        return commit.hex
    }

    /// Everything that differs between `base` and the work tree now, untracked files included (ignored ones
    /// not), as a unified diff `git apply` takes; empty when nothing changed.
    public static func patch(in directory: String, against base: String) throws(GitError) -> String {
        let repository = try GitRepository.open(at: directory)
        guard let id = ObjectID(hex: base) else { throw GitError(code: -1, errorClass: 0, message: "\(base) is not a commit id") }
        var oid = id.oid
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, repository.handle, &oid))
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit))
        defer { git_tree_free(tree) }
        var options = git_diff_options()
        try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)))
        options.flags = GIT_DIFF_INCLUDE_UNTRACKED.rawValue | GIT_DIFF_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_DIFF_SHOW_UNTRACKED_CONTENT.rawValue | GIT_DIFF_SHOW_BINARY.rawValue
        var diff: OpaquePointer?
        try check(git_diff_tree_to_workdir(&diff, repository.handle, tree, &options))
        defer { git_diff_free(diff) }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(git_diff_to_buf(&buffer, diff, GIT_DIFF_FORMAT_PATCH))
        guard let bytes = buffer.ptr else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: buffer.size), as: UTF8.self)
    }
}
