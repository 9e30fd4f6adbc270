import CTenantry
import Foundation

// The one file in GitSync that sees libgit2. Everything else works with `GitRepository`,
// `ObjectID`, `GitCredentials` and `GitError`; raw pointers stay in this file.

/// A libgit2 failure: the C return code, the error class and libgit2's own message, read from
/// libgit2's per-thread error state in the same synchronous call that failed.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: Int32
    public let errorClass: Int32
    public let message: String

    public var description: String { message }

    var isAuthentication: Bool { code == GIT_EAUTH.rawValue }
    var isNonFastForward: Bool { code == GIT_ENONFASTFORWARD.rawValue }
    /// libgit2 reports a failed write with the OS error text; there is no separate code for ENOSPC.
    var isDiskFull: Bool { message.contains(String(cString: strerror(ENOSPC))) }
}

/// The one place a libgit2 return code becomes a Swift error.
@discardableResult
func check(_ rc: Int32) throws(GitError) -> Int32 {
    guard rc < 0 else { return rc }
    let last = git_error_last()
    let message = last.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "libgit2 error \(rc)"
    throw GitError(code: rc, errorClass: last?.pointee.klass ?? 0, message: message)
}

private let libgit2Ready: Int32 = git_libgit2_init()

/// A commit, tree or blob name: 40 lowercase hex digits.
public struct ObjectID: Sendable, Hashable, CustomStringConvertible {
    public let hex: String

    public init?(hex: String) {
        guard hex.utf8.count == 40, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        self.hex = hex
    }

    public var description: String { hex }

    init(_ oid: git_oid) {
        var oid = oid
        var buffer = [CChar](repeating: 0, count: 40)
        git_oid_fmt(&buffer, &oid)
        hex = String(decoding: buffer.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var oid: git_oid {
        var oid = git_oid()
        git_oid_fromstr(&oid, hex)
        return oid
    }

    /// The SHA-1 git would give `text` as a blob; used for stable cache directory names.
    static func hashing(_ text: String) -> ObjectID {
        var oid = git_oid()
        let bytes = Array(text.utf8)
        git_odb_hash(&oid, bytes, bytes.count, GIT_OBJECT_BLOB)
        return ObjectID(oid)
    }
}

/// What to answer when a remote asks who we are.
enum GitCredentials: Sendable, Hashable {
    /// HTTP basic auth: a token as the password (GitHub and GitLab accept any username with a token).
    case userPassword(username: String, password: String)
    case sshKey(username: String?, publicKeyFile: String?, privateKeyFile: String, passphrase: String?)

    static var sshSupported: Bool { git_libgit2_features() & Int32(GIT_FEATURE_SSH.rawValue) != 0 }
}

/// One change between two trees, as `git diff --name-status` prints it.
public struct FileChange: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case added = "A", modified = "M", deleted = "D", renamed = "R", typeChanged = "T"
    }
    public let kind: Kind
    public let path: String
    public var description: String { "\(kind.rawValue) \(path)" }
}

/// Result of pushing one refspec.
enum PushOutcome: Sendable, Hashable {
    case pushed
    /// The remote moved since we last fetched; fetch, rebuild and try again.
    case rejected(reason: String)
}

/// Callback context shared by credential and push-status callbacks; passed to C as `Unmanaged`.
private final class RemoteContext {
    let credentials: GitCredentials?
    var credentialAttempts = 0
    var rejections: [String] = []

    init(credentials: GitCredentials?) { self.credentials = credentials }

    /// libgit2 asks again after a refusal; offering a secret once and then failing turns a loop into GIT_EAUTH.
    static func acquire(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, _ usernameFromURL: UnsafePointer<CChar>?,
        _ allowedTypes: UInt32, _ payload: UnsafeMutableRawPointer?
    ) -> Int32 {
        guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
        let context = Unmanaged<RemoteContext>.fromOpaque(payload).takeUnretainedValue()
        guard let credentials = context.credentials else { return GIT_PASSTHROUGH.rawValue }
        func offerSecret(_ make: () -> Int32) -> Int32 {
            guard context.credentialAttempts == 0 else {
                git_error_set_str(Int32(GIT_ERROR_CALLBACK.rawValue), "the remote refused the configured credentials")
                return GIT_EAUTH.rawValue
            }
            context.credentialAttempts += 1
            return make()
        }
        switch credentials {
        case .userPassword(let username, let password):
            guard allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else { break }
            return offerSecret { git_credential_userpass_plaintext_new(out, username, password) }
        case .sshKey(let username, let publicKeyFile, let privateKeyFile, let passphrase):
            let user = username ?? usernameFromURL.map { String(cString: $0) } ?? "git"
            if allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                return offerSecret { git_credential_ssh_key_new(out, user, publicKeyFile, privateKeyFile, passphrase) }
            }
            // SSH first asks who we are (no secret involved), then for the key.
            if allowedTypes & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
                return git_credential_username_new(out, user)
            }
        }
        git_error_set_str(
            Int32(GIT_ERROR_CALLBACK.rawValue), "the remote asks for a kind of credential that is not configured")
        return GIT_EAUTH.rawValue
    }

    static func pushStatus(_ refname: UnsafePointer<CChar>?, _ status: UnsafePointer<CChar>?, _ payload: UnsafeMutableRawPointer?) -> Int32 {
        guard let payload, let status else { return 0 }
        let context = Unmanaged<RemoteContext>.fromOpaque(payload).takeUnretainedValue()
        context.rejections.append("\(refname.map { String(cString: $0) } ?? "?"): \(String(cString: status))")
        return 0
    }

    func install(in callbacks: inout git_remote_callbacks) {
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        callbacks.credentials = { out, _, username, allowed, payload in
            RemoteContext.acquire(out, username, allowed, payload)
        }
        callbacks.push_update_reference = { refname, status, payload in
            RemoteContext.pushStatus(refname, status, payload)
        }
    }
}

/// Runs `body` with a `git_strarray` view of `strings`; the C strings live only for the call.
private func withStrarray<T>(_ strings: [String], _ body: (inout git_strarray) throws -> T) rethrows -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}

/// An open repository. Not shared between threads: open one per operation.
final class GitRepository {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }
    deinit { git_repository_free(handle) }

    static func open(at path: String) throws(GitError) -> GitRepository {
        _ = libgit2Ready
        var handle: OpaquePointer?
        try check(git_repository_open_ext(&handle, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil))
        return GitRepository(handle: handle!)
    }

    /// A new repository with a work tree at `path`.
    static func create(at path: String) throws(GitError) -> GitRepository {
        _ = libgit2Ready
        var handle: OpaquePointer?
        try check(git_repository_init(&handle, path, 0))
        return GitRepository(handle: handle!)
    }

    /// Makes remote `name` point at `url`, creating it if needed.
    func setRemote(_ name: String, url: String) throws(GitError) {
        var remote: OpaquePointer?
        let rc = git_remote_lookup(&remote, handle, name)
        if rc == GIT_ENOTFOUND.rawValue {
            try check(git_remote_create(&remote, handle, name, url))
            git_remote_free(remote)
            return
        }
        try check(rc)
        defer { git_remote_free(remote) }
        if String(cString: git_remote_url(remote)) != url {
            try check(git_remote_set_url(handle, name, url))
        }
    }

    /// Fetches `refspecs` from remote `name`, pruning refs the remote no longer has.
    func fetch(remote name: String, refspecs: [String], credentials: GitCredentials?) throws(GitError) {
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, handle, name))
        defer { git_remote_free(remote) }
        let context = RemoteContext(credentials: credentials)
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)))
        options.prune = GIT_FETCH_PRUNE
        options.proxy_opts.type = GIT_PROXY_AUTO  // honour http(s)_proxy as git does
        context.install(in: &options.callbacks)
        let rc = withStrarray(refspecs) { array in
            withExtendedLifetime(context) { git_remote_fetch(remote, &array, &options, "tenantry fetch") }
        }
        try check(rc)
    }

    /// Pushes `refspec` (never forced). A non-fast-forward refusal, from libgit2's own check or
    /// from the remote, is an outcome rather than an error: the caller fetches and retries.
    func push(remote name: String, refspec: String, credentials: GitCredentials?) throws(GitError) -> PushOutcome {
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, handle, name))
        defer { git_remote_free(remote) }
        let context = RemoteContext(credentials: credentials)
        var options = git_push_options()
        try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)))
        options.proxy_opts.type = GIT_PROXY_AUTO
        context.install(in: &options.callbacks)
        let rc = withStrarray([refspec]) { array in
            withExtendedLifetime(context) { git_remote_push(remote, &array, &options) }
        }
        do {
            try check(rc)
        } catch where error.isNonFastForward {
            return .rejected(reason: error.message)
        }
        if let rejection = context.rejections.first { return .rejected(reason: rejection) }
        return .pushed
    }

    /// The commit a reference points at, peeling annotated tags; nil when the reference does not exist.
    func commit(ofReference name: String) throws(GitError) -> ObjectID? {
        var reference: OpaquePointer?
        let rc = git_reference_lookup(&reference, handle, name)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc)
        defer { git_reference_free(reference) }
        var object: OpaquePointer?
        try check(git_reference_peel(&object, reference, GIT_OBJECT_COMMIT))
        defer { git_object_free(object) }
        return ObjectID(git_object_id(object).pointee)
    }

    /// Points reference `name` at `commit`, creating or moving it.
    func setReference(_ name: String, to commit: ObjectID, message: String) throws(GitError) {
        var oid = commit.oid
        var reference: OpaquePointer?
        try check(git_reference_create(&reference, handle, name, &oid, 1, message))
        git_reference_free(reference)
    }

    /// Names of the references matching a glob such as `refs/remotes/origin/*`, in byte order.
    func referenceNames(matching glob: String) throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, handle, glob))
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        var name: UnsafePointer<CChar>?
        while git_reference_next_name(&name, iterator) == 0, let name { names.append(String(cString: name)) }
        return names.sorted()
    }

    func containsCommit(_ id: ObjectID) -> Bool {
        var oid = id.oid
        var commit: OpaquePointer?
        guard git_commit_lookup(&commit, handle, &oid) == 0 else { return false }
        git_commit_free(commit)
        return true
    }

    /// Whether `commit` has `ancestor` in its history (false when they are equal).
    func isDescendant(_ commit: ObjectID, of ancestor: ObjectID) throws(GitError) -> Bool {
        var commitOID = commit.oid
        var ancestorOID = ancestor.oid
        return try check(git_graph_descendant_of(handle, &commitOID, &ancestorOID)) == 1
    }

    /// Makes the work tree and index exactly `commit`'s tree, removing anything else, and detaches HEAD there.
    func checkOut(_ commit: ObjectID) throws(GitError) {
        var oid = commit.oid
        var object: OpaquePointer?
        try check(git_object_lookup(&object, handle, &oid, GIT_OBJECT_COMMIT))
        defer { git_object_free(object) }
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)))
        options.checkout_strategy =
            GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_REMOVE_UNTRACKED.rawValue | GIT_CHECKOUT_REMOVE_IGNORED.rawValue
        try check(git_checkout_tree(handle, object, &options))
        try check(git_repository_set_head_detached(handle, &oid))
    }

    /// The files that differ between two commits; every file of `to` when `from` is nil.
    func changes(from: ObjectID?, to: ObjectID) throws(GitError) -> [FileChange] {
        let newTree = try tree(ofCommit: to)
        defer { git_tree_free(newTree) }
        let oldTree = try from.map { (id) throws(GitError) in try tree(ofCommit: id) }
        defer { git_tree_free(oldTree) }
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, handle, oldTree, newTree, nil))
        defer { git_diff_free(diff) }
        var changes: [FileChange] = []
        for index in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, index)?.pointee else { continue }
            let kind: FileChange.Kind
            switch delta.status {
            case GIT_DELTA_ADDED: kind = .added
            case GIT_DELTA_DELETED: kind = .deleted
            case GIT_DELTA_RENAMED: kind = .renamed
            case GIT_DELTA_TYPECHANGE: kind = .typeChanged
            default: kind = .modified
            }
            let path = kind == .deleted ? delta.old_file.path : delta.new_file.path
            changes.append(FileChange(kind: kind, path: path.map { String(cString: $0) } ?? ""))
        }
        return changes
    }

    /// The bytes of the file at `path` in `commit`, or nil when there is no such file.
    func file(at path: String, inCommit commit: ObjectID) throws(GitError) -> [UInt8]? {
        let tree = try tree(ofCommit: commit)
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, tree, path)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc)
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)))
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let bytes = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: size))
    }

    func treeID(ofCommit commit: ObjectID) throws(GitError) -> ObjectID {
        let tree = try tree(ofCommit: commit)
        defer { git_tree_free(tree) }
        return ObjectID(git_tree_id(tree).pointee)
    }

    /// `commit`'s tree with the directory at `directory` replaced by exactly `files` (paths
    /// relative to it, `/`-separated). Writes the objects and returns the new root tree.
    func tree(replacing directory: String, in commit: ObjectID, with files: [String: [UInt8]]) throws(GitError) -> ObjectID {
        let subtree = try writeTree(DirectoryNode(files: files))
        let base = try tree(ofCommit: commit)
        defer { git_tree_free(base) }
        var out = git_oid()
        let rc = directory.withCString { path in
            var update = git_tree_update(action: GIT_TREE_UPDATE_UPSERT, id: subtree.oid, filemode: GIT_FILEMODE_TREE, path: path)
            return git_tree_create_updated(&out, handle, base, 1, &update)
        }
        try check(rc)
        return ObjectID(out)
    }

    private func writeTree(_ node: DirectoryNode) throws(GitError) -> ObjectID {
        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, handle, nil))
        defer { git_treebuilder_free(builder) }
        for (name, bytes) in node.files {
            var oid = git_oid()
            try check(git_blob_create_from_buffer(&oid, handle, bytes, bytes.count))
            try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_BLOB))
        }
        for (name, child) in node.directories {
            var oid = try writeTree(child).oid
            try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_TREE))
        }
        var out = git_oid()
        try check(git_treebuilder_write(&out, builder))
        return ObjectID(out)
    }

    /// Writes a commit of `tree` on top of `parent` without moving any reference.
    func commit(tree treeID: ObjectID, parent: ObjectID, message: String, authorName: String, authorEmail: String) throws(GitError) -> ObjectID {
        var signature: UnsafeMutablePointer<git_signature>?
        try check(git_signature_now(&signature, authorName, authorEmail))
        defer { git_signature_free(signature) }
        var treeOID = treeID.oid
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, handle, &treeOID))
        defer { git_tree_free(tree) }
        var parentOID = parent.oid
        var parentCommit: OpaquePointer?
        try check(git_commit_lookup(&parentCommit, handle, &parentOID))
        defer { git_commit_free(parentCommit) }
        var out = git_oid()
        var parents: [OpaquePointer?] = [parentCommit]
        try check(git_commit_create(&out, handle, nil, signature, signature, nil, message, tree, 1, &parents))
        return ObjectID(out)
    }

    private func tree(ofCommit id: ObjectID) throws(GitError) -> OpaquePointer {
        var oid = id.oid
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, handle, &oid))
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit))
        return tree!
    }
}

/// Files grouped into nested directories, for writing as git trees.
private struct DirectoryNode {
    var files: [String: [UInt8]] = [:]
    var directories: [String: DirectoryNode] = [:]

    init(files paths: [String: [UInt8]]) {
        for (path, bytes) in paths { insert(path.split(separator: "/").map(String.init), bytes) }
    }

    private init() {}

    private mutating func insert(_ components: [String], _ bytes: [UInt8]) {
        guard let first = components.first else { return }
        if components.count == 1 {
            files[first] = bytes
        } else {
            directories[first, default: DirectoryNode()].insert(Array(components.dropFirst()), bytes)
        }
    }
}

// MARK: - Reading revisions into directories (tenantry plan)

extension GitRepository {
    /// The commit a revision names (`main`, `origin/main`, `HEAD~1`, a full or short hash), peeling tags;
    /// nil when the repository has no such revision.
    func resolveCommit(_ revision: String) throws(GitError) -> ObjectID? {
        var object: OpaquePointer?
        let rc = git_revparse_single(&object, handle, revision)
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EAMBIGUOUS.rawValue || rc == GIT_EINVALIDSPEC.rawValue { return nil }
        try check(rc)
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        let peeled = git_object_peel(&commit, object, GIT_OBJECT_COMMIT)
        if peeled == GIT_ENOTFOUND.rawValue || peeled == GIT_EINVALIDSPEC.rawValue || peeled == GIT_EPEEL.rawValue { return nil }
        try check(peeled)
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit).pointee)
    }

    /// The best common ancestor of two commits, as `git merge-base` gives it; nil when they share no history.
    func mergeBase(_ a: ObjectID, _ b: ObjectID) throws(GitError) -> ObjectID? {
        var out = git_oid()
        var one = a.oid
        var two = b.oid
        let rc = git_merge_base(&out, handle, &one, &two)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc)
        return ObjectID(out)
    }

    /// Writes the files of `commit`'s tree under `subdirectory` ("" for the root) into `directory`:
    /// regular and executable files as files, folders as folders. Symbolic links and submodules are
    /// skipped, so nothing written can point outside `directory`. Returns false when there is no such folder.
    func export(_ commit: ObjectID, subdirectory: String, to directory: String) throws(GitError) -> Bool {
        let root = try tree(ofCommit: commit)
        defer { git_tree_free(root) }
        var start: OpaquePointer? = root
        var owned: OpaquePointer?
        defer { git_tree_free(owned) }
        if !subdirectory.isEmpty {
            var entry: OpaquePointer?
            let rc = git_tree_entry_bypath(&entry, root, subdirectory)
            if rc == GIT_ENOTFOUND.rawValue { return false }
            try check(rc)
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return false }
            try check(git_tree_lookup(&owned, handle, git_tree_entry_id(entry)))
            start = owned
        }
        try writeFiles(of: start!, to: directory)
        return true
    }

    private func writeFiles(of tree: OpaquePointer, to directory: String) throws(GitError) {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw GitError(code: -1, errorClass: 0, message: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            // Git never stores these, but a crafted tree could; they must not escape the directory.
            guard name != ".", name != "..", !name.contains("/") else { continue }
            let path = directory + "/" + name
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE:
                var subtree: OpaquePointer?
                try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)))
                defer { git_tree_free(subtree) }
                try writeFiles(of: subtree!, to: path)
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                var blob: OpaquePointer?
                try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)))
                defer { git_blob_free(blob) }
                let size = Int(git_blob_rawsize(blob))
                let bytes = size > 0 ? Data(bytes: git_blob_rawcontent(blob), count: size) : Data()
                guard FileManager.default.createFile(atPath: path, contents: bytes) else {
                    throw GitError(code: -1, errorClass: 0, message: "cannot write \(path)")
                }
            default:
                continue  // symbolic links and submodules
            }
        }
    }
}
