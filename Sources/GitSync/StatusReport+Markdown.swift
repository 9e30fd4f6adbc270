import Foundation
import Support

// The human-readable pages of the report: status/README.md and status/tenants/<name>.md.

extension StatusReport {
    /// Every file of the status directory, by path relative to it.
    func files() throws(StatusError) -> [String: [UInt8]] {
        var files = ["README.md": Array(readme.utf8), "status.json": jsonBytes]
        for tenant in tenants {
            guard TenantName.isValid(tenant.name) else { throw .invalidTenantName(tenant.name) }
            files["tenants/\(tenant.name).md"] = Array(tenant.page(revision: revision, time: time).utf8)
        }
        return files
    }

    var readme: String {
        let tenants = sortedTenants
        let ready = tenants.filter(\.ready).count
        var text = """
            # Tenantry status

            Revision `\(revision)` reconciled at \(Timestamp.rfc3339(time)): \
            \(tenants.count) \(tenants.count == 1 ? "tenant" : "tenants"), \(ready) ready.

            | Tenant | Ready | Objects | Applied | Pruned | Failed | Errors | Sessions running |
            | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |

            """
        for tenant in tenants {
            text += "| [\(tenant.name)](tenants/\(tenant.name).md) | \(tenant.ready ? "yes" : "**no**") "
            text += "| \(tenant.objects) | \(tenant.applied.count) | \(tenant.pruned.count) | \(tenant.failed.count) "
            text += "| \(tenant.errors.count) | \(tenant.sessions.running) |\n"
        }
        text += "\nWritten by Tenantry after each reconcile; edits to this directory are overwritten. "
        text += "The same report, machine-readable: [status.json](status.json).\n"
        return text
    }
}

extension TenantStatus {
    func page(revision: String, time: Date) -> String {
        var text = """
            # Tenant \(name)

            - Ready: \(ready ? "yes" : "**no**")
            - Objects managed: \(objects) (applied this time: \(applied.count))
            - Revision: `\(revision)`
            - Reconciled at: \(Timestamp.rfc3339(time))

            """
        text += section("Validation errors", errors) { issue in
            "`\(issue.location)`" + (issue.field.map { " `\($0)`" } ?? "") + ": " + Markdown.escape(issue.message)
        }
        text += section("Failed", failed) { "`\($0.object)`: " + Markdown.escape($0.message) }
        text += section("Applied", applied) { "`\($0)`" }
        text += section("Pruned", pruned) { "`\($0)`" }
        text += "\n## Sessions\n\n"
        let phases = sessions.byPhase
        let titles: [String] = phases.map { $0.phase.capitalized }
        let counts: [String] = phases.map { String($0.count) }
        text += "| " + titles.joined(separator: " | ") + " |\n"
        text += "|" + String(repeating: " ---: |", count: phases.count) + "\n"
        text += "| " + counts.joined(separator: " | ") + " |\n"
        return text
    }

    private func section<T>(_ title: String, _ items: [T], _ line: (T) -> String) -> String {
        var text = "\n## \(title) (\(items.count))\n\n"
        if items.isEmpty { return text + "None.\n" }
        for item in items { text += "- " + line(item) + "\n" }
        return text
    }
}

enum Markdown {
    /// Escapes the characters that would turn a message into markup.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#": out += "\\\(character)"
            case "\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}

/// Tenant names become file names: only DNS labels, so no name can reach outside the directory.
enum TenantName {
    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "-") }
    }
}
