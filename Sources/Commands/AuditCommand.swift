import Audit
import Foundation
import Model
import Support

/// `tenantry audit verify|prune`: checks the Sessions API's hash-chained audit trail, or prunes it after
/// a retention while keeping the rest verifiable. The work is Audit's; this only reads flags and prints.
enum AuditCommand {
    static let defaultDatabase = ".tenantry/audit.db"
    static let usage = """
    Usage: tenantry audit verify [--db PATH]
           tenantry audit prune --older-than DURATION [--db PATH]

    verify walks the audit trail from its anchor to its head and checks that every entry follows the one
    before, links to its hash and hashes to its content. Exit 0 intact; 1 an entry was edited or removed
    (the first bad one is named); 2 the database cannot be read.
    prune removes the entries older than DURATION (e.g. 7y, the policy's auditLogs retention) and keeps
    the hash of the last one removed as the anchor, so verify still checks what remains.

    Flags:
      --db PATH              the audit database (default \(defaultDatabase))
      --older-than DURATION  prune only: 30d, 1y, 7y
    """

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: ["--db", "--older-than"])
        let path = args.value("--db") ?? defaultDatabase
        let positionals = try args.positionals(max: 1, usage: "tenantry audit verify|prune")
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError("no audit database at \(path); pass --db PATH")
        }
        switch positionals.first {
        case "verify":
            let result = try AuditLog(path: path).verify()
            if result.intact {
                console.out(result.description + "\n")
                return Tenantry.ExitCode.success
            }
            console.err("error: \(result.description)\n")
            return Tenantry.ExitCode.findings
        case "prune":
            guard let text = args.value("--older-than") else { throw UsageError("prune needs --older-than DURATION (e.g. 7y)") }
            guard let retention = AuditRetention(text: text, source: "--older-than") else {
                throw UsageError("--older-than must be a duration such as 30d or 7y, got \"\(text)\"")
            }
            let removed = try AuditLog(path: path).prune(retention)
            console.out("pruned \(removed) audit entries older than \(text)\n")
            return Tenantry.ExitCode.success
        default:
            throw UsageError("say what to do: tenantry audit verify or tenantry audit prune")
        }
    }
}
