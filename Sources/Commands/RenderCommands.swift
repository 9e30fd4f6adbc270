import Foundation
import Model
import Render
import Support

/// `tenantry validate` and `tenantry render`.
enum RenderCommands {
    enum DiagnosticFormat: String, CaseIterable { case text, json }

    static let validateUsage = """
    Usage: tenantry validate [REPO] [--format text|json]

    Checks platform.yaml and every tenants/**/*.yaml of the tenant repo REPO (default: the current directory)
    and prints every problem as FILE:LINE:COLUMN: FIELD: MESSAGE on stderr, then a summary on stdout.

    Flags:
      --format text|json   json prints one machine-readable report on stdout instead (default text)

    Exit codes: 0 every tenant valid; 1 some tenant invalid; 2 usage error or broken platform.yaml.
    """

    static let renderUsage = """
    Usage: tenantry render [REPO] [-o yaml|json] [--out DIR] [--tenant NAME] [--format text|json]

    Renders every valid tenant of the tenant repo REPO (default: the current directory) into Kubernetes
    manifests, ordered for apply (CRDs and cluster-wide objects first). Invalid tenants are reported on stderr
    and left out; the others still render. Output is byte-identical for the same repo.

    Flags:
      -o, --output yaml|json   a multi-document YAML stream, or a v1 List (default yaml)
      --out DIR                write one file per tenant (DIR/<tenant>.yaml) and DIR/_platform.yaml for the shared
                               objects instead of stdout; files of tenants no longer in the repo are removed, an
                               invalid tenant's previous file is kept
      --tenant NAME            only this tenant's objects (every tenant is still validated)
      --format text|json       how problems are printed on stderr (default text)

    Exit codes: 0 every tenant rendered; 1 some tenant invalid (the rest rendered); 2 usage error or broken
    platform.yaml.
    """

    static func validate(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: ["--format"])
        let repo = try args.positionals(max: 1, usage: "tenantry validate [REPO]").first ?? "."
        let format = try args.choice("--format", default: DiagnosticFormat.text, DiagnosticFormat.allCases)
        guard let validated = try load(repo, format: format, report: console.out) else { return Tenantry.ExitCode.failure }
        let diagnostics = validated.tenants.flatMap(\.diagnostics)
        let invalid = validated.tenants.filter { !$0.isValid }
        switch format {
        case .json:
            console.out(report(valid: invalid.isEmpty, tenants: validated.tenants, diagnostics: diagnostics).prettyText + "\n")
        case .text:
            console.err(diagnostics.map { $0.description + "\n" }.joined())
            console.out(summary(validated.tenants) + "\n")
        }
        return invalid.isEmpty ? Tenantry.ExitCode.success : Tenantry.ExitCode.findings
    }

    static func render(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: ["--output", "--out", "--tenant", "--format"], aliases: ["-o": "--output"])
        let repo = try args.positionals(max: 1, usage: "tenantry render [REPO]").first ?? "."
        let output = try args.choice("--output", default: ManifestWriter.Format.yaml, ManifestWriter.Format.allCases)
        let format = try args.choice("--format", default: DiagnosticFormat.text, DiagnosticFormat.allCases)
        guard let validated = try load(repo, format: format, report: console.err) else { return Tenantry.ExitCode.failure }

        var tenants = validated.tenants
        var includePlatform = true
        if let name = args.value("--tenant") {
            guard let match = validated.tenants.first(where: { $0.name == name }) else {
                var message = "no tenant named \"\(name)\" in \(repo)"
                if let guess = Suggest.closest(to: name, among: validated.tenants.map(\.name)) { message += " (did you mean \"\(guess)\"?)" }
                throw UsageError(message)
            }
            tenants = [match]
            includePlatform = false
        }

        let diagnostics = tenants.flatMap(\.diagnostics)
        switch format {
        case .json:
            if !diagnostics.isEmpty {
                console.err(report(valid: tenants.allSatisfy(\.isValid), tenants: tenants, diagnostics: diagnostics).prettyText + "\n")
            }
        case .text:
            console.err(diagnostics.map { $0.description + "\n" }.joined())
            let invalid = tenants.filter { !$0.isValid }.map(\.name)
            if !invalid.isEmpty {
                console.err("error: \(invalid.count) tenant\(invalid.count == 1 ? "" : "s") not rendered (\(invalid.joined(separator: ", "))); the others were\n")
            }
        }

        if let directory = args.value("--out") {
            let written = try OutputDirectory(path: directory).write(
                platform: includePlatform ? Renderer.platformManifests() : nil,
                tenants: Renderer.render(tenants, platform: validated.platform),
                allTenants: validated.tenants.map(\.name), format: output)
            for file in written { console.out("wrote \(file.path) (\(file.objects) objects)\n") }
        } else {
            // Slices of tenants keep memory flat however large the repo; the bytes are the same.
            var stream = ManifestStream(format: output, sink: console.out)
            if includePlatform { stream.write(Renderer.platformManifests()) }
            for start in stride(from: 0, to: tenants.count, by: Self.sliceSize) {
                let slice = Array(tenants[start..<min(start + Self.sliceSize, tenants.count)])
                stream.write(Renderer.render(slice, platform: validated.platform).flatMap(\.manifests))
            }
            stream.finish()
        }
        return tenants.allSatisfy(\.isValid) ? Tenantry.ExitCode.success : Tenantry.ExitCode.findings
    }

    /// Tenants rendered and written at a time.
    static let sliceSize = 512

    /// Loads and validates the repo. A broken platform file is thrown (printed as text by `Failure`), or, with
    /// `--format json`, reported as JSON through `report` and answered with nil.
    private static func load(_ repo: String, format: DiagnosticFormat, report output: (String) -> Void) throws -> ValidatedRepo? {
        do {
            return try RepoValidator.validate(try RepoLoader.load(repo))
        } catch {
            guard format == .json else { throw error }
            output(report(valid: false, tenants: [], diagnostics: error.diagnostics).prettyText + "\n")
            return nil
        }
    }

    static func summary(_ tenants: [TenantResult]) -> String {
        let invalid = tenants.filter { !$0.isValid }
        var line = "\(tenants.count) tenant\(tenants.count == 1 ? "" : "s"): \(tenants.count - invalid.count) valid, \(invalid.count) invalid"
        if !invalid.isEmpty { line += " (\(invalid.map(\.name).joined(separator: ", ")))" }
        return line
    }

    static func report(valid: Bool, tenants: [TenantResult], diagnostics: [Diagnostic]) -> JSON {
        [
            "valid": .bool(valid),
            "tenants": .array(tenants.map { tenant in
                [
                    "name": .string(tenant.name), "file": .string(tenant.file), "valid": .bool(tenant.isValid),
                    "errors": .int(tenant.diagnostics.filter { $0.severity == .error }.count),
                ]
            }),
            "diagnostics": .array(diagnostics.map(\.json)),
        ]
    }
}

/// `render --out DIR`: one file per owner, written atomically, with a ledger of what it wrote so that files of
/// tenants that left the repo can be removed next time without touching anything else in DIR.
struct OutputDirectory {
    static let ledgerName = ".tenantry-rendered"
    let path: String

    struct Written {
        let path: String
        let objects: Int
    }

    /// Writes the platform's file (when given: not for a single tenant) and one file per valid tenant.
    func write(platform: [Manifest]?, tenants: [TenantResult], allTenants: [String], format: ManifestWriter.Format) throws -> [Written] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        var groups: [(owner: String, manifests: [Manifest])] = []
        if let platform { groups.append((Manifest.platformOwner, platform)) }
        for result in tenants where result.isValid { groups.append((result.name, result.manifests)) }
        var written: [Written] = []
        for group in groups {
            let name = ManifestWriter.fileName(owner: group.owner, format: format)
            let file = (path as NSString).appendingPathComponent(name)
            try Data(ManifestWriter.write(group.manifests, as: format).utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            written.append(Written(path: file, objects: group.manifests.count))
        }
        guard platform != nil else { return written }
        // Files this command wrote before for tenants that no longer exist (invalid ones keep their last good file).
        let ledger = (path as NSString).appendingPathComponent(Self.ledgerName)
        let previous = (try? String(contentsOfFile: ledger, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        // Files of tenants still in the repo stay, whatever format they were written in.
        let present = Set(allTenants.flatMap { tenant in ManifestWriter.Format.allCases.map { ManifestWriter.fileName(owner: tenant, format: $0) } })
            .union(written.map { ($0.path as NSString).lastPathComponent })
        var kept = Set(written.map { ($0.path as NSString).lastPathComponent })
        for name in previous where !present.contains(name) {
            try? fm.removeItem(atPath: (path as NSString).appendingPathComponent(name))
        }
        kept.formUnion(previous.filter { present.contains($0) })
        try Data((kept.sorted().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: ledger), options: .atomic)
        return written
    }
}
