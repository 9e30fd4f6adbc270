import Foundation
import HTTPClient
import Model
import Render

/// The one place that turns an error into what the user reads and the exit code (2: the command stopped).
/// Every line reads as kubectl's do: `error: ` then what failed, where, and what to do.
/// - A usage error points at `--help`; a broken tenant repo lists its diagnostics.
/// - A Kubernetes `Status` that reached here bare reads as kubectl prints it (`Error from server (NotFound): …`).
/// - A bare HTTP client failure says which server could not be reached and what to check, in the words a
///   KubeError uses for the API server (`The connection to the server … was refused - …`).
/// - A file the command could not read or write names the file and the system's reason.
/// - Every domain error (KubeError, KubeconfigError, PruneGuardError, SourceError, SourceConfigError, StatusError,
///   GitError, GitHubError, LocalClusterError, SQLiteError, YAMLError, JWTError, ArtifactError, …) is printed by
///   its description, which its module writes in this voice where it knows the details (CommandsTests'
///   FailureTests pins each). Commands throw rather than print their own (serve's broken tenant repo at start is
///   the one exception: its wording is pinned by its test).
enum Failure {
    static func report(_ error: Error, command: String) -> (message: String, code: Int32) {
        (message(error, command: command), Tenantry.ExitCode.failure)
    }

    private static func message(_ error: Error, command: String) -> String {
        switch error {
        case let usage as UsageError:
            return "error: \(usage.message)\nRun 'tenantry \(command) --help' for usage.\n"
        case let repo as RepoError:
            let lines = repo.diagnostics.map { $0.description + "\n" }.joined()
            return lines + "error: the tenant repo cannot be rendered until this is fixed; no tenant was rendered\n"
        case let status as KubeStatus:
            return "error: \(status.rendered(object: nil))\n"
        case let client as HTTPClientError:
            return "error: \(client.advice(server: client.url)) (\(client.message))\n"
        case let file as CocoaError:
            return "error: \(fileProblem(file))\n"
        case let posix as POSIXError:
            return "error: \(String(cString: strerror(posix.code.rawValue)))\n"
        default:
            return "error: \(error)\n"
        }
    }

    /// `cannot read PATH: No such file or directory; check the path and its permissions`.
    private static func fileProblem(_ error: CocoaError) -> String {
        let path = error.filePath ?? error.url?.path ?? "a file"
        let verb = (CocoaError.Code.fileReadUnknown.rawValue..<CocoaError.Code.fileWriteUnknown.rawValue).contains(error.code.rawValue) ? "read"
            : (CocoaError.Code.fileWriteUnknown.rawValue..<1024).contains(error.code.rawValue) ? "write" : "use"
        let reason: String
        if let underlying = error.underlying as NSError?, underlying.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(underlying.code)))
        } else {
            reason = error.localizedDescription.replacingOccurrences(of: "The operation could not be completed. ", with: "")
        }
        return "cannot \(verb) \(path): \(reason); check the path and its permissions"
    }
}
