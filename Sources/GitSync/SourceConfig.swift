/// Everything GitSync needs to follow one repository and write status back to it, validated.
/// Built from flags (`SourceSettings(flags:)`), from the `source:`/`status:` mappings of
/// `tenantry.yaml` (`SourceSettings(document:file:)`), or both, flags winning.
public struct SourceConfig: Sendable, Hashable {
    /// `https://…`, `ssh://…`, scp-style `git@host:org/repo.git`, `file://…` or a local path.
    public var url: String
    public var reference: SourceReference
    /// Where the tenant repo (platform.yaml, tenants/) lives inside the git repository; "" for its top.
    public var path: String
    public var interval: Duration
    public var credentials: CredentialSource
    /// Holds one clone per repository URL (see `SourceCache`).
    public var cacheDirectory: String
    public var status: StatusConfig

    public static let defaultInterval: Duration = .seconds(60)
    public static let defaultCacheDirectory = ".tenantry/cache"

    public init(
        url: String, reference: SourceReference = .branch("main"), path: String = "",
        interval: Duration = SourceConfig.defaultInterval, credentials: CredentialSource = .none,
        cacheDirectory: String = SourceConfig.defaultCacheDirectory, status: StatusConfig = StatusConfig()
    ) {
        self.url = url
        self.reference = reference
        self.path = RepositoryPath.normalize(path)
        self.interval = interval
        self.credentials = credentials
        self.cacheDirectory = cacheDirectory
        self.status = status
    }

    /// The URL with any password or token in it replaced by `***`, for messages.
    public var displayURL: String { Redaction.displayURL(url) }
}

/// Where and as whom status reports are committed.
public struct StatusConfig: Sendable, Hashable {
    /// The directory the report owns inside the repository; Render ignores it.
    public var path: String
    /// The branch to commit to; nil means the tracked branch.
    public var branch: String?
    public var authorName: String
    public var authorEmail: String

    public static let defaultPath = "status"
    public static let defaultAuthorName = "Tenantry Bot"
    public static let defaultAuthorEmail = "tenantry-bot@users.noreply.invalid"

    public init(
        path: String = StatusConfig.defaultPath, branch: String? = nil,
        authorName: String = StatusConfig.defaultAuthorName, authorEmail: String = StatusConfig.defaultAuthorEmail
    ) {
        self.path = RepositoryPath.normalize(path)
        self.branch = branch
        self.authorName = authorName
        self.authorEmail = authorEmail
    }
}

/// Paths inside the repository: `/`-separated, no leading `./` or trailing `/`.
enum RepositoryPath {
    static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    /// `user@host:path`, git's scp-like syntax for SSH (a colon before any slash).
    static func isSCPStyle(_ url: String) -> Bool {
        guard let colon = url.firstIndex(of: ":") else { return false }
        return !url[..<colon].contains("/") && !url.contains("://")
    }

    /// Whether `file` is `directory` itself or inside it ("" contains everything).
    static func contains(_ directory: String, _ file: String) -> Bool {
        directory.isEmpty || file == directory || file.hasPrefix(directory + "/")
    }
}
