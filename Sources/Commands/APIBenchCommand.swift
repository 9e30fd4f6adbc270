import Access
import Apply
import Foundation
import LocalCluster
import Model
import Support

/// `tenantry bench api`: the Sessions API's authorization against a fresh local cluster with U users
/// spread over N namespaces by group RoleBindings: `/user/namespaces` for every user from one RBAC
/// snapshot, and mixed list/get SubjectAccessReviews cold (each one asked) and warm (from the cache).
/// Figures only: nothing is asserted.
enum APIBenchCommand {
    static let usage = """
    Usage: tenantry bench api [--users N] [--namespaces N] [--requests N]

    Starts a local cluster in a temporary directory (HTTPS on 127.0.0.1) with N namespaces, each with an
    editors and a viewers group bound to tenantry:editor / tenantry:viewer, and U users in two groups each.
    Prints: /user/namespaces for every user (one snapshot: the cluster requests it took, p50/p99 per
    user), and R mixed list/get authorizations, first cold (a SubjectAccessReview each) then warm (the
    decision cache, its lifetime raised to an hour for the run): requests/s and p50/p99.

    Flags:
      --users N       users (default 2000)
      --namespaces N  namespaces (default 100)
      --requests N    authorizations per pass (default 5000)
    """

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: ["--users", "--namespaces", "--requests"])
        _ = try args.positionals(max: 0, usage: "tenantry bench api [--users N] [--namespaces N] [--requests N]")
        func count(_ flag: String, _ fallback: Int) throws(UsageError) -> Int {
            guard let text = args.value(flag) else { return fallback }
            guard let number = Int(text), number > 0 else { throw UsageError("\(flag) needs a positive number, got \"\(text)\"") }
            return number
        }
        let users = try count("--users", 2000), namespaceCount = try count("--namespaces", 100), requests = try count("--requests", 5000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-api-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try LocalClusterServer.start(directory: directory)
        defer { server.stop() }
        let client = KubeClient(config: try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve())

        console.err("==> \(namespaceCount) namespaces, 2 RoleBindings each, \(users) users in 2 groups each\n")
        let namespaces = (0..<namespaceCount).map { "team-\($0)" }
        for (role, verbs) in [("viewer", ["get", "list", "watch"]), ("editor", ["get", "list", "watch", "create", "update", "patch"])] {
            _ = try client.apply(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": .string("tenantry:\(role)")],
                                  "rules": [["apiGroups": ["ambient.ai"], "resources": ["sessions"], "verbs": .strings(verbs)]]])
        }
        for namespace in namespaces {
            _ = try client.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            for role in ["viewer", "editor"] {
                _ = try client.apply(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                      "metadata": ["name": .string("tenantry-\(role)s"), "namespace": .string(namespace)],
                                      "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string("tenantry:\(role)")],
                                      "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string("\(namespace)-\(role)s")]]])
            }
        }
        let callers = (0..<users).map { index in
            Caller(user: "user-\(index)@acme.example",
                   groups: ["team-\(index % namespaceCount)-editors", "team-\((index * 7 + 3) % namespaceCount)-viewers", "system:authenticated"],
                   method: .oidc(issuer: "https://login.acme.example"))
        }

        // /user/namespaces for everyone, from one snapshot.
        client.resetRequestCounts()
        let permissions = NamespacePermissions(client: client, maxAge: 3600)
        let clock = ContinuousClock()
        var perUser: [Duration] = []
        var reachable = 0
        let allStart = clock.now
        let snapshot = try permissions.snapshot()
        let snapshotTime = clock.now - allStart
        for caller in callers {
            let start = clock.now
            reachable += snapshot.permissions(of: caller, in: namespaces).count
            perUser.append(clock.now - start)
        }
        let allTime = clock.now - allStart
        console.out("""
            /user/namespaces: \(users) users x \(namespaceCount) namespaces in \(format(allTime)): the RBAC snapshot \(format(snapshotTime)) \
            (\(client.requestCounts.reads) cluster requests, once per max age for all users), then per user p50 \(format(percentile(perUser, 0.5))), \
            p99 \(format(percentile(perUser, 0.99))); \(reachable) namespace grants found

            """)

        // Mixed list/get authorizations: cold, then the same again from the cache.
        var generator = SplitMix(seed: 42)
        let work = (0..<requests).map { _ -> (Caller, AccessRequest) in
            let caller = callers[Int(generator.next() % UInt64(users))]
            let namespace = namespaces[Int(generator.next() % UInt64(namespaceCount))]
            return (caller, AccessRequest(generator.next() % 2 == 0 ? .list : .get, namespace: namespace))
        }
        // Decisions kept for the whole run (the default is 10 s), so the warm pass measures the cache alone.
        let reviewer = AccessReviewer(client: client, configuration: AuthorizationCacheConfiguration(allowedTTL: 3600, deniedTTL: 3600))
        client.resetRequestCounts()
        for label in ["cold", "warm"] {
            var latencies: [Duration] = []
            var allowed = 0
            let start = clock.now
            for (caller, request) in work {
                let one = clock.now
                if try reviewer.authorize(caller, request).allowed { allowed += 1 }
                latencies.append(clock.now - one)
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            console.out("""
                authorize (\(label)): \(requests) list/get in \(format(elapsed)), \(Int(Double(requests) / max(seconds, 1e-9))) requests/s, \
                p50 \(format(percentile(latencies, 0.5))), p99 \(format(percentile(latencies, 0.99))); \(allowed) allowed; \
                SubjectAccessReviews sent so far \(client.requestCounts.writes)

                """)
        }
        return Tenantry.ExitCode.success
    }

    private static func percentile(_ values: [Duration], _ fraction: Double) -> Duration {
        guard !values.isEmpty else { return .zero }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    private static func format(_ duration: Duration) -> String {
        let microseconds = Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
        return microseconds >= 1000 ? String(format: "%.2f ms", microseconds / 1000) : String(format: "%.1f µs", microseconds)
    }
}

/// A small seeded generator, so every run asks the same questions.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
