import Model

/// Writes a `RepoPlan` as GitHub Markdown, plain text or JSON. Output is a pure function of the plan: the same
/// plan gives the same bytes.
public enum PlanWriter {
    public enum Format: String, Sendable, CaseIterable {
        case text, markdown, json
    }

    /// GitHub's limit on an issue comment's body.
    public static let gitHubCommentLimit = 65_536

    public static func write(_ plan: RepoPlan, as format: Format) -> String {
        switch format {
        case .text: return text(plan)
        case .markdown: return markdown(plan)
        case .json: return JSON.object(json(plan)).prettyText + "\n"
        }
    }

    // MARK: - Markdown

    /// Markdown for a pull-request comment: a summary line first, deleted namespaces, guardrails, a heading and
    /// tables per tenant, then the objects collapsed. At most `limit` UTF-8 bytes (so at most `limit` characters):
    /// sections that do not fit are cut, with a note saying so.
    public static func markdown(_ plan: RepoPlan, limit: Int = gitHubCommentLimit) -> String {
        var blocks: [Block] = []
        blocks.append(Block(lines: ["**tenantry plan:** \(escape(plan.summary))", ""]))
        if !plan.notes.isEmpty {
            blocks.append(Block(lines: plan.notes.map { "> \(escape($0))" } + [""]))
        }
        if !plan.deletedNamespaces.isEmpty {
            var lines = ["> [!CAUTION]", "> **Deleted namespaces**: their sessions, artifacts and history are deleted with them."]
            lines += plan.deletedNamespaces.map { "> - \(code($0.namespace)) (tenant \(code($0.tenant)))" }
            blocks.append(Block(lines: lines + [""]))
        }
        if !plan.findings.isEmpty {
            var lines = ["#### Guardrails", "", "| Severity | Guardrail | Where | Finding |", "| --- | --- | --- | --- |"]
            for finding in plan.findings {
                let d = finding.diagnostic
                let field = d.field.isEmpty ? "" : " " + code(d.field)
                lines.append("| \(d.severity.rawValue) | \(code(finding.kind.rawValue)) | \(code(d.location))\(field) | \(escape(d.message)) |")
            }
            blocks.append(Block(lines: lines + [""]))
        }
        if !plan.platform.isEmpty {
            var lines = ["#### Platform", "", "File `platform.yaml`", "", "| What | Before | After | Note |", "| --- | --- | --- | --- |"]
            for row in plan.platform {
                lines.append("| \(escape(row.item)) | \(escape(row.before ?? "—")) | \(escape(row.after ?? "—")) | \(escape(row.note ?? "")) |")
            }
            blocks.append(Block(lines: lines + [""]))
        }
        for tenant in plan.tenants {
            var lines = ["#### Tenant \(code(tenant.name)): \(tenant.status.rawValue)", ""]
            lines.append("File \(code(tenant.file))" + (tenant.previousFile.map { " (was \(code($0)))" } ?? ""))
            lines.append("")
            if tenant.status == .invalid {
                lines += [invalidNote, ""]
            }
            for area in PlanChange.Area.allCases {
                let rows = tenant.changes.filter { $0.area == area }
                guard !rows.isEmpty else { continue }
                lines += ["**\(area.title)**", "", "| What | Before | After | Note |", "| --- | --- | --- | --- |"]
                for row in rows {
                    lines.append("| \(escape(row.item)) | \(escape(row.before ?? "—")) | \(escape(row.after ?? "—")) | \(escape(row.note ?? "")) |")
                }
                lines.append("")
            }
            blocks.append(Block(lines: lines, isTenant: true))
        }
        if !plan.objects.isEmpty {
            var lines = ["<details><summary>Objects: \(objectCounts(plan))</summary>", "", "| Action | Object | Owner |", "| --- | --- | --- |"]
            lines += plan.objects.map { "| \($0.action.rawValue) | \(code($0.reference.description)) | \(code($0.owner)) |" }
            blocks.append(Block(lines: lines + [""], closing: ["</details>", ""]))
        }

        let reserve = 400
        var out = ""
        var used = 0
        var cut = false
        let tenantBlocks = blocks.filter(\.isTenant).count
        var tenantsShown = 0
        for block in blocks {
            let text = block.lines.map { $0 + "\n" }.joined() + block.closing.map { $0 + "\n" }.joined()
            if !cut, used + text.utf8.count <= limit - reserve {
                out += text
                used += text.utf8.count
                if block.isTenant { tenantsShown += 1 }
                continue
            }
            if cut { continue }
            cut = true
            // Take what fits of this block, keeping its closing lines so the Markdown stays well formed.
            let closing = block.closing.map { $0 + "\n" }.joined()
            var partial = ""
            for line in block.lines {
                let next = line + "\n"
                guard used + partial.utf8.count + next.utf8.count + closing.utf8.count <= limit - reserve else { break }
                partial += next
            }
            if !partial.isEmpty {
                out += partial + closing
                used += partial.utf8.count + closing.utf8.count
            }
        }
        if cut {
            out += "\n> **This plan was cut to fit GitHub's \(limit)-character comment limit** (\(tenantsShown) of \(tenantBlocks) tenant sections shown in full). Run `tenantry plan` on the two revisions for the whole plan.\n"
        }
        return out
    }

    static let invalidNote = "Does not validate (see the guardrails): nothing of it would be applied, and its last good render stays in place."

    private struct Block {
        var lines: [String]
        var closing: [String] = []
        var isTenant = false
    }

    private static func objectCounts(_ plan: RepoPlan) -> String {
        ObjectChange.Action.allCases.compactMap { action -> String? in
            let count = plan.objects.filter { $0.action == action }.count
            return count > 0 ? "\(count) \(action.rawValue)" : nil
        }.joined(separator: ", ")
    }

    /// Text in a table cell: pipes escaped, no line breaks, no HTML.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|": out += "\\|"
            case "\n", "\r": out += " "
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A code span; backticks inside cannot be shown, so they become quotes.
    static func code(_ text: String) -> String {
        "`" + text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ") + "`"
    }

    // MARK: - Text

    /// Plain text for a terminal: the same content, no tables.
    public static func text(_ plan: RepoPlan) -> String {
        var out = "tenantry plan: \(plan.summary)\n"
        for note in plan.notes { out += "note: \(note)\n" }
        if !plan.deletedNamespaces.isEmpty {
            out += "\nDeleted namespaces (their sessions, artifacts and history are deleted with them):\n"
            for deleted in plan.deletedNamespaces { out += "  \(deleted.namespace) (tenant \(deleted.tenant))\n" }
        }
        if !plan.findings.isEmpty {
            out += "\nGuardrails:\n"
            for finding in plan.findings {
                let prefix = finding.severity == .error ? "error: " : ""
                out += "  \(prefix)\(finding)\n"
            }
        }
        if !plan.platform.isEmpty {
            out += "\nPlatform platform.yaml\n"
            for change in plan.platform {
                var line = "  \(change.item): \(change.before ?? "-") -> \(change.after ?? "-")"
                if let note = change.note, !note.isEmpty { line += " (\(note))" }
                out += line + "\n"
            }
        }
        for tenant in plan.tenants {
            out += "\nTenant \(tenant.name) (\(tenant.status.rawValue)) \(tenant.file)"
            out += tenant.previousFile.map { " (was \($0))" } ?? ""
            out += "\n"
            if tenant.status == .invalid { out += "  \(invalidNote)\n" }
            let width = tenant.changes.map(\.area.rawValue.count).max() ?? 0
            for change in tenant.changes {
                let area = change.area.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
                var line = "  \(area)  \(change.item): \(change.before ?? "-") -> \(change.after ?? "-")"
                if let note = change.note, !note.isEmpty { line += " (\(note))" }
                out += line + "\n"
            }
        }
        if !plan.objects.isEmpty {
            out += "\nObjects: \(objectCounts(plan))\n"
            for object in plan.objects {
                out += "  \(object.reference) \(object.action.rawValue)\n"
            }
        }
        return out
    }

    // MARK: - JSON

    private static func changeJSON(_ change: PlanChange) -> JSON {
        var c: JSONObject = ["area": .string(change.area.rawValue), "item": .string(change.item)]
        c["before"] = change.before.map(JSON.string) ?? .null
        c["after"] = change.after.map(JSON.string) ?? .null
        if let note = change.note { c["note"] = .string(note) }
        return .object(c)
    }

    public static func json(_ plan: RepoPlan) -> JSONObject {
        [
            "summary": .string(plan.summary),
            "changed": .bool(plan.hasChanges),
            "exitCode": .int(plan.verdict.rawValue),
            "notes": .strings(plan.notes),
            "deletedNamespaces": .array(plan.deletedNamespaces.map { ["namespace": .string($0.namespace), "tenant": .string($0.tenant)] }),
            "guardrails": .array(plan.findings.map { finding in
                var object = finding.diagnostic.json.objectValue ?? [:]
                object["kind"] = .string(finding.kind.rawValue)
                return .object(object)
            }),
            "platform": .array(plan.platform.map(changeJSON)),
            "tenants": .array(plan.tenants.map { tenant in
                var object: JSONObject = ["name": .string(tenant.name), "status": .string(tenant.status.rawValue), "file": .string(tenant.file)]
                if let previous = tenant.previousFile { object["previousFile"] = .string(previous) }
                object["changes"] = .array(tenant.changes.map(changeJSON))
                return .object(object)
            }),
            "objects": .array(plan.objects.map { object in
                var o: JSONObject = ["action": .string(object.action.rawValue), "apiVersion": .string(object.reference.apiVersion),
                                     "kind": .string(object.reference.kind)]
                if let namespace = object.reference.namespace { o["namespace"] = .string(namespace) }
                o["name"] = .string(object.reference.name)
                o["owner"] = .string(object.owner)
                return .object(o)
            }),
        ]
    }
}
