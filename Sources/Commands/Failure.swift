import GitHub
import Model
import Render
import Support

/// The one place that turns an error into what the user reads and the exit code. A usage error points at
/// --help; a broken tenant repo lists its diagnostics; every other error (KubeError, SourceError, StatusError,
/// SourceConfigError, GitHubError, LocalClusterError, SQLiteError, …) is printed by its description, which each
/// domain module writes in kubectl's voice (what failed, where, what to do). Commands throw rather than print
/// their own (serve's broken tenant repo at start is the one exception: its wording is pinned by its test).
enum Failure {
    static func report(_ error: Error, command: String) -> (message: String, code: Int32) {
        switch error {
        case let usage as UsageError:
            return ("error: \(usage.message)\nRun 'tenantry \(command) --help' for usage.\n", Tenantry.ExitCode.failure)
        case let repo as RepoError:
            let lines = repo.diagnostics.map { $0.description + "\n" }.joined()
            return (lines + "error: the tenant repo cannot be rendered until this is fixed; no tenant was rendered\n",
                    Tenantry.ExitCode.failure)
        default:
            return ("error: \(error)\n", Tenantry.ExitCode.failure)
        }
    }
}
