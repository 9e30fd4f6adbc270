import Model
import Support

extension SourceSettings {
    /// The flags that set source and status settings, and the field each sets.
    static var flags: [(flag: String, field: WritableKeyPath<SourceSettings, String?>)] {
        [
        ("--url", \.url), ("--branch", \.branch), ("--tag", \.tag), ("--commit", \.commit), ("--path", \.path),
        ("--interval", \.interval), ("--cache", \.cacheDirectory), ("--username", \.username),
        ("--token-file", \.tokenFile), ("--token-env", \.tokenEnvironment), ("--ssh-key", \.sshKeyFile),
        ("--ssh-public-key", \.sshPublicKeyFile), ("--ssh-passphrase-file", \.sshPassphraseFile),
        ("--status-path", \.statusPath), ("--status-branch", \.statusBranch), ("--author-name", \.authorName),
        ("--author-email", \.authorEmail),
        ]
    }

    public static let flagUsage = """
          --url URL                 repository: https://, ssh://, git@host:org/repo.git, file:// or a path
          --branch NAME             branch to follow (default main)
          --tag NAME                tag to follow instead of a branch
          --commit SHA              full commit id to pin (with --branch: the branch that names it)
          --path DIR                the tenant repo (platform.yaml, tenants/) inside the git repository (default: top)
          --interval DURATION       poll interval, e.g. 30s, 5m (default 1m)
          --cache DIR               clone cache directory (default .tenantry/cache)
          --token-file FILE         HTTPS token, sent as the basic-auth password
          --token-env VAR           HTTPS token from an environment variable
          --username NAME           basic-auth user for the token (default x-access-token) or SSH user
          --ssh-key FILE            SSH private key file
          --ssh-public-key FILE     SSH public key file (optional)
          --ssh-passphrase-file F   file holding the SSH key passphrase (optional)
          --status-path DIR         directory the status report owns (default status)
          --status-branch NAME      branch status reports are pushed to (default: the followed branch)
          --author-name NAME        status commit author (default "Tenantry Bot")
          --author-email EMAIL      status commit email
        """

    /// Reads `--flag value` and `--flag=value` pairs with the shared parser. `extra` lists command-specific
    /// flags, whose values are returned separately; anything else is a usage error.
    static func parse(flags arguments: [String], extra: [String] = []) throws(UsageError)
        -> (settings: SourceSettings, extra: [String: String])
    {
        let args = try Arguments(arguments, valued: flags.map(\.flag) + extra)
        if let stray = args.positionals.first { throw UsageError("unexpected argument \"\(stray)\"") }
        var settings = SourceSettings()
        for (flag, field) in flags { if let value = args.value(flag) { settings[keyPath: field] = value } }
        var extraValues: [String: String] = [:]
        for flag in extra { extraValues[flag] = args.value(flag) }
        return (settings, extraValues)
    }
}
