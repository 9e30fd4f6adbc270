import Foundation
import LocalCluster
import Model
import Reconciler
import Render
import Support
import Webhooks

/// `tenantry bench render --tenants N`: generates N tenants in a temporary repo and times each phase.
enum BenchCommand {
    static let usage = """
    Usage: tenantry bench render [--tenants N] [--keep]
           tenantry bench apply [--tenants N] [--no-kubectl] [--keep]   (see tenantry bench apply --help)
           tenantry bench webhooks [--rate N] [--duration S] [--connections C] (see tenantry bench webhooks --help)
           tenantry bench cluster [--objects N]   (see tenantry bench cluster --help)
           tenantry bench api [--users N] [--namespaces N]   (see tenantry bench api --help)
           tenantry bench sessions [--sessions N] [--hold]   (see tenantry bench sessions --help)

    Generates N synthetic tenants (default 10000: one to three namespaces, members, routing and triggers each)
    in a temporary tenant repo, renders them, and prints the time of each phase (load, validate, render,
    serialise) and the process's peak memory. Figures only: nothing is asserted.

    Flags:
      --tenants N   how many tenants to generate (default 10000)
      --keep        keep the generated repo and print where it is
    """

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        if words.first == "apply" {
            return try ApplyBenchCommand.run(Array(words.dropFirst()), stdout: console.out, stderr: console.err)
        }
        if words.first == "cluster" {
            return try ClusterBenchCommand.run(Array(words.dropFirst()), stdout: console.out, stderr: console.err)
        }
        if words.first == "sessions" {
            return try SessionBenchCommand.run(Array(words.dropFirst()), console)
        }
        if words.first == "api" {
            return try APIBenchCommand.run(Array(words.dropFirst()), console)
        }
        if words.first == "webhooks" {
            return try WebhookBenchCommand.run(Array(words.dropFirst()), stdout: console.out, stderr: console.err)
        }
        let args = try Arguments(words, valued: ["--tenants"], switches: ["--keep"])
        guard try args.positionals(max: 1, usage: "tenantry bench render") == ["render"] else {
            throw UsageError("say what to measure: tenantry bench render")
        }
        let count = try args.value("--tenants").map { text throws(UsageError) -> Int in
            guard let value = Int(text), value > 0 else { throw UsageError("--tenants must be a positive whole number, got \"\(text)\"") }
            return value
        } ?? 10_000

        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-\(getpid())")
        try SyntheticRepo.write(tenants: count, to: repo)
        defer { if !args.isSet("--keep") { try? FileManager.default.removeItem(at: repo) } }

        let clock = ContinuousClock()
        var start = clock.now
        func lap() -> Duration {
            let now = clock.now
            defer { start = now }
            return now - start
        }
        // As `tenantry render` does it: validate everything, then render and serialise slice by slice.
        var load = Duration.zero, validate = Duration.zero, render = Duration.zero, serialise = Duration.zero
        let validated = try { () throws -> ValidatedRepo in
            let loaded = try RepoLoader.load(repo.path)
            load = lap()
            defer { validate = lap() }
            return try RepoValidator.validate(loaded)
        }()
        var objects = 0, bytes = 0
        var stream = ManifestStream(format: .yaml) { bytes += $0.utf8.count }
        for first in stride(from: 0, to: validated.tenants.count, by: RenderCommands.sliceSize) {
            let slice = Array(validated.tenants[first..<min(first + RenderCommands.sliceSize, validated.tenants.count)])
            let manifests = (first == 0 ? Renderer.platformManifests() : [])
                + Renderer.render(slice, platform: validated.platform).flatMap(\.manifests)
            render += lap()
            stream.write(manifests)
            objects += manifests.count
            serialise += lap()
        }
        stream.finish()

        let total = load + validate + render + serialise
        let rows: [(String, Duration)] = [("load", load), ("validate", validate), ("render", render), ("serialise", serialise), ("total", total)]
        var text = "tenantry bench render: \(count) tenants, \(objects) objects, \(bytes / 1024) KiB of YAML"
        text += ", \(validated.tenants.filter { !$0.isValid }.count) invalid\n"
        for (name, duration) in rows { text += "  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(milliseconds(duration)) ms\n" }
        text += "  peak memory \(peakMemoryMiB()) MiB\n"
        if args.isSet("--keep") { text += "  repo kept at \(repo.path)\n" }
        console.out(text)
        return Tenantry.ExitCode.success
    }

    private static func milliseconds(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%8.1f", ms)
    }

    /// Peak resident set size of this process (Linux reports ru_maxrss in KiB).
    static func peakMemoryMiB() -> Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss / 1024
    }
}
