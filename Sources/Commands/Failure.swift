import Model
import Render
import Support

/// The one place that turns an error into what the user reads and the exit code.
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
