import GitSync
import Model

/// `tenantry source fetch`: one fetch of the tenant repository, for people and scripts.
public enum SourceCommand {
    public static let usage = """
        Usage: tenantry source fetch [--config FILE] [flags]

        Fetches the tenant repository into the clone cache (cloning it the first time), checks out
        the followed branch, tag or commit into a clean tree, and prints the revision and the
        files changed under the tenant path since the last fetch:

          main@sha1:3f4c…            the revision (stdout, first line)
          M tenants/payments.yaml    one line per changed file: A added, M modified, D deleted

        A commit that changes nothing under the tenant path (a status report, say) keeps the
        revision. A force-push upstream is reported on stderr. If the fetch fails, the last good
        checkout stays in place and the error says which revision that is and how old.

        Settings come from the source: and status: sections of --config FILE (default
        ./tenantry.yaml when it exists); flags override them.

        Flags:
          --config FILE             tenantry.yaml to read
        \(SourceSettings.flagUsage)

        Exit status: 0 fetched; 2 bad flags or the fetch failed.
        """

    public static func run(
        _ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void
    ) throws -> Int32 {
        let config = try ConfigFile.load(try Verb.expect("fetch", of: "source", in: arguments)).config
        let result = try Source(config: config).fetch()
        stdout(result.revision.description + "\n")
        for change in result.changes { stdout(change.description + "\n") }
        if result.forcePushed, let previous = result.previous {
            stderr("warning: \(config.displayURL) was force-pushed: \(result.head) does not contain \(previous)\n")
        }
        if result.head != result.revision {
            stderr("head \(result.head) changes nothing under \(config.path.isEmpty ? "the tenant path" : config.path)\n")
        }
        return Tenantry.ExitCode.success
    }
}

/// Commands with one verb (`source fetch`, `status write`): the verb first, then its flags.
enum Verb {
    /// The arguments after `verb`; a missing or other first word is a usage error naming the one expected.
    static func expect(_ verb: String, of command: String, in arguments: [String]) throws(UsageError) -> [String] {
        guard let first = arguments.first else { throw UsageError("missing subcommand: expected tenantry \(command) \(verb)") }
        guard first == verb else {
            throw UsageError("unknown subcommand \"\(command) \(first)\": expected tenantry \(command) \(verb)")
        }
        return Array(arguments.dropFirst())
    }
}
