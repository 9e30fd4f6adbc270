import Model

/// Source and status settings as written, before validation: every field optional so that flags
/// can be laid over a configuration file. `resolved()` turns them into a `SourceConfig`.
public struct SourceSettings: Sendable, Hashable {
    public var url: String?
    public var branch: String?
    public var tag: String?
    public var commit: String?
    public var path: String?
    public var interval: String?
    public var cacheDirectory: String?
    public var username: String?
    public var tokenFile: String?
    public var tokenEnvironment: String?
    public var sshKeyFile: String?
    public var sshPublicKeyFile: String?
    public var sshPassphraseFile: String?
    public var statusPath: String?
    public var statusBranch: String?
    public var authorName: String?
    public var authorEmail: String?

    public init() {}

    /// These settings with every field set in `overrides` replaced.
    public func overlaid(with overrides: SourceSettings) -> SourceSettings {
        var merged = self
        for field in Self.fields {
            if let value = overrides[keyPath: field] { merged[keyPath: field] = value }
        }
        return merged
    }

    static var fields: [WritableKeyPath<SourceSettings, String?>] {
        [
        \.url, \.branch, \.tag, \.commit, \.path, \.interval, \.cacheDirectory, \.username, \.tokenFile,
        \.tokenEnvironment, \.sshKeyFile, \.sshPublicKeyFile, \.sshPassphraseFile, \.statusPath, \.statusBranch,
        \.authorName, \.authorEmail,
        ]
    }

    /// Validates the settings. Messages name both the flag and the `tenantry.yaml` field.
    public func resolved() throws(SourceConfigError) -> SourceConfig {
        guard let url, !url.isEmpty else {
            throw SourceConfigError(field: "--url / source.url", message: "the repository URL is required")
        }
        var config = SourceConfig(url: url, reference: try reference(), credentials: try credentials())
        if let path { config.path = RepositoryPath.normalize(path) }
        if let interval {
            guard let duration = DurationText.parse(interval), duration > .zero else {
                throw SourceConfigError(
                    field: "--interval / source.interval",
                    message: "expected a duration such as 30s, 5m or 1h30m, got \"\(interval)\"")
            }
            config.interval = duration
        }
        if let cacheDirectory { config.cacheDirectory = cacheDirectory }
        if let statusPath { config.status.path = RepositoryPath.normalize(statusPath) }
        guard !config.status.path.isEmpty else {
            throw SourceConfigError(
                field: "--status-path / status.path",
                message: "the status report needs a directory of its own, such as \"status\"")
        }
        if !config.path.isEmpty, RepositoryPath.contains(config.status.path, config.path) {
            throw SourceConfigError(
                field: "--status-path / status.path",
                message: "\"\(config.status.path)\" contains the tenant path \"\(config.path)\"; pick a separate directory")
        }
        config.status.branch = statusBranch
        if let authorName { config.status.authorName = authorName }
        if let authorEmail { config.status.authorEmail = authorEmail }
        return config
    }

    private func reference() throws(SourceConfigError) -> SourceReference {
        if let commit {
            guard tag == nil else {
                throw SourceConfigError(field: "--commit / source.commit", message: "set a commit or a tag, not both")
            }
            guard let id = ObjectID(hex: commit.lowercased()) else {
                throw SourceConfigError(
                    field: "--commit / source.commit",
                    message: "expected a full 40-hex-digit commit id, got \"\(commit)\"")
            }
            return .commit(id, branch: branch)
        }
        if let tag {
            guard branch == nil else {
                throw SourceConfigError(
                    field: "--tag / source.tag",
                    message: "set a branch or a tag, not both (use --status-branch for where reports go)")
            }
            return .tag(tag)
        }
        return .branch(branch ?? "main")
    }

    private func credentials() throws(SourceConfigError) -> CredentialSource {
        let tokenSources = [tokenFile.map(TokenLocation.file), tokenEnvironment.map(TokenLocation.environment)]
            .compactMap { $0 }
        if tokenSources.count > 1 {
            throw SourceConfigError(
                field: "--token-file / --token-env", message: "read the token from a file or from a variable, not both")
        }
        if let token = tokenSources.first {
            guard sshKeyFile == nil else {
                throw SourceConfigError(
                    field: "--ssh-key / source.auth.sshKeyFile",
                    message: "a token is for https:// URLs and a key file for ssh ones; set only one")
            }
            return .token(token, username: username ?? CredentialSource.defaultTokenUsername)
        }
        if let sshKeyFile {
            return .sshKey(
                privateKeyFile: sshKeyFile, publicKeyFile: sshPublicKeyFile, passphraseFile: sshPassphraseFile,
                username: username)
        }
        return .none
    }
}

/// A source setting that cannot be used as given.
public struct SourceConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file it came from, when it came from one.
    public var file: String?
    /// The flag and/or field, e.g. `--interval / source.interval`; empty for a YAML syntax error.
    public var field: String
    public var message: String

    public init(file: String? = nil, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        "invalid source configuration: " + (file.map { "\($0): " } ?? "") + (field.isEmpty ? "" : "\(field): ") + message
    }
}
