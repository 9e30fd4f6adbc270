import Access
import Apply
import Audit
import Foundation
import HTTPClient
import HTTPServer
import LocalCluster
import Model
import Reconciler
import Render
import Sessions
import SessionsAPI
import Support

/// `tenantry bench api`: the Sessions API over HTTP as `serve` mounts it, against a fresh local cluster that holds
/// the RBAC rendered from a synthetic tenant repo and some Sessions in every namespace, called by U users with
/// tokens the cluster minted. Figures only: nothing is asserted.
enum APIBenchCommand {
    static let usage = """
    Usage: tenantry bench api [--users N] [--namespaces N] [--rate R] [--seconds S] [--sessions N] [--workers N] [--cache-ttl S]

    Starts a local cluster in a temporary directory (HTTPS on 127.0.0.1) and reconciles a synthetic tenant repo
    into it: N/2 tenants of two namespaces each, every tenant with an editors and a readers group. U users get
    a token from the cluster (two groups each: editors of one tenant, readers of another) and call the Sessions
    API on 127.0.0.1 (TokenReview and SubjectAccessReview against the cluster, their answers cached for
    --cache-ttl: U users x 2 namespaces x 2 verbs are more keys than 10 s of load asks twice, so the default
    10 s decision lifetime would measure reviews, not the cache). Prints, each as requests/s and p50/p99/max
    (latency counted from when a request was due, the load being open-loop at the target rate):
      - GET /user/namespaces once for every user (and how many cluster requests that took: the RBAC snapshot,
        not a review per namespace);
      - a warm-up: list and get once for every user and namespace the load uses (cold TokenReviews and reviews);
      - list and get mixed at R requests/s for S seconds, then list alone.

    Flags:
      --users N       users (default 2000)
      --namespaces N  namespaces, an even number (default 100)
      --rate R        target requests per second (default 500)
      --seconds S     length of each measured run (default 10)
      --sessions N    Sessions per namespace (default 5)
      --workers N     client threads (default 16)
      --cache-ttl S   how long token and authorization answers are cached (default 600)
    """

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: ["--users", "--namespaces", "--rate", "--seconds", "--sessions", "--workers", "--cache-ttl"])
        _ = try args.positionals(max: 0, usage: "tenantry bench api [--users N] [--namespaces N] [--rate R] [--seconds S] [--sessions N] [--workers N] [--cache-ttl S]")
        func count(_ flag: String, _ fallback: Int) throws(UsageError) -> Int {
            guard let text = args.value(flag) else { return fallback }
            guard let number = Int(text), number > 0 else { throw UsageError("\(flag) needs a positive number, got \"\(text)\"") }
            return number
        }
        let users = try count("--users", 2000), namespaceCount = try count("--namespaces", 100), rate = try count("--rate", 500)
        let seconds = try count("--seconds", 10), perNamespace = try count("--sessions", 5), workers = try count("--workers", 16)
        let cacheTTL = TimeInterval(try count("--cache-ttl", 600))
        guard namespaceCount % 2 == 0 else { throw UsageError("--namespaces must be even (two per tenant), got \(namespaceCount)") }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-api-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try LocalClusterServer.start(directory: directory)
        defer { server.stop() }
        let client = KubeClient(config: try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve())
        let clock = ContinuousClock()

        // The tenants: rendered from a synthetic repo and reconciled, as `tenantry reconcile` would.
        let tenantCount = namespaceCount / 2
        let repo = URL(fileURLWithPath: directory + "/repo")
        try SyntheticRepo.write(tenants: tenantCount, to: repo, namespacesPerTenant: 2)
        var start = clock.now
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(repo.path)))
        let tenants = rendered.tenants.compactMap(\.tenant)
        let result = Reconciler(client: client).reconcile(Reconciler.desired(rendered), frozen: [])
        guard result.succeeded else { throw UsageError("the synthetic tenants did not reconcile: \(result.changes.failures.map(\.message).prefix(3).joined(separator: "; "))") }
        console.err("==> \(tenants.count) tenants, \(namespaceCount) namespaces rendered and reconciled in \(format(clock.now - start))\n")

        var table: [String: SessionsAPI.NamespaceInfo] = [:]
        for tenant in tenants { for namespace in tenant.namespaces { table[namespace.name] = SessionsAPI.NamespaceInfo(tenant: tenant) } }
        let namespaces = table.keys.sorted()
        start = clock.now
        var sessions: [String: [String]] = [:]
        for namespace in namespaces {
            for index in 0..<perNamespace {
                let name = "bench-\(index)"
                let session = Session(name: name, namespace: namespace, trigger: .init(source: .github, event: "issues.labeled", payload: ["title": .string("Bench \(index)")]),
                                      framework: .init(type: "claude-code", version: "1.5.2", config: ["model": "model-large"]),
                                      constraints: .init(allowedModels: ["model-large"], budget: nil, allowedTools: ["git"], approvalRequired: false))
                _ = try client.create(session.object)
                sessions[namespace, default: []].append(name)
            }
        }
        console.err("==> \(namespaces.count * perNamespace) Sessions created in \(format(clock.now - start))\n")

        // The users: a token each from the cluster; editors of one tenant and readers of another.
        start = clock.now
        let tenantNames = tenants.map(\.name).sorted()
        var tokens: [String] = []
        var reach: [[String]] = []
        for index in 0..<users {
            let editing = tenantNames[index % tenantNames.count], reading = tenantNames[(index * 7 + 3) % tenantNames.count]
            tokens.append(try UserTokens.mint(directory: directory, user: "user-\(index)@bench.example", groups: ["\(editing)-devs", "\(reading)-readers"],
                                              validForSeconds: 3600))
            reach.append(namespaces.filter { $0.hasPrefix(editing + "-") || $0.hasPrefix(reading + "-") })
        }
        console.err("==> \(users) user tokens minted in \(format(clock.now - start))\n")

        // The API as `serve` composes it.
        let tokenReviewer = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: ["tenantry", ServiceAccountTokenIssuer.issuer],
                                                                                                      authenticatedTTL: cacheTTL))
        let accessReviewer = AccessReviewer(client: client, configuration: AuthorizationCacheConfiguration(allowedTTL: cacheTTL, deniedTTL: cacheTTL))
        let permissions = NamespacePermissions(client: client)
        let audit = try AuditLog(path: directory + "/audit.db")
        var api = SessionsAPI(gate: AccessGate(authenticator: Authenticator(issuers: [], tokenReviewer: tokenReviewer), reviewer: accessReviewer),
                              permissions: permissions, audit: audit, namespaces: { [table] in table })
        api.cluster = client
        // As serve: list and get from the session index (one watch of every Session).
        let index = SessionIndex(client: client)
        index.start()
        defer { index.stop() }
        api.sessionIndex = index
        let deadline = Date().addingTimeInterval(60)
        while index.sessions(in: namespaces[0]) == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let mounted = api
        let http = try HTTPServer(HTTPServer.Configuration()) { request in mounted.handle(request) ?? Response(status: 404) }
        defer { http.stop() }
        let base = "http://127.0.0.1:\(http.port)/api/v1"
        func request(_ path: String, _ user: Int) -> HTTPRequest {
            HTTPRequest(method: "GET", url: base + path, headers: [("Authorization", "Bearer \(tokens[user])")])
        }
        let load = OpenLoopLoad(rate: Double(rate), workers: workers)

        // /user/namespaces for every user, at the target rate.
        client.resetRequestCounts()
        let mine = load.run((0..<users).map { request("/user/namespaces", $0) })
        let counts = client.requestCounts
        console.out("/user/namespaces, \(users) users x \(namespaceCount) namespaces: \(mine.summary); cluster requests: \(counts.reads) reads "
                    + "(the RBAC snapshot, refreshed at most every 10 s, and nothing per namespace), \(counts.writes) writes (TokenReviews; no SubjectAccessReview)\n")

        // The work: a random user, one of the namespaces it reaches, a list or a get of one of its Sessions.
        var generator = SplitMix(seed: 42)
        func plan(_ total: Int, lists: Bool, gets: Bool) -> [HTTPRequest] {
            (0..<total).map { _ in
                let user = Int(generator.next() % UInt64(users))
                let namespace = reach[user][Int(generator.next() % UInt64(reach[user].count))]
                let list = lists && (!gets || generator.next() % 2 == 0)
                if list { return request("/namespaces/\(namespace)/sessions", user) }
                let names = sessions[namespace] ?? []
                return request("/namespaces/\(namespace)/sessions/\(names[Int(generator.next() % UInt64(names.count))])", user)
            }
        }
        var warm: [HTTPRequest] = []
        for user in 0..<users {
            for namespace in reach[user] {
                warm.append(request("/namespaces/\(namespace)/sessions", user))
                warm.append(request("/namespaces/\(namespace)/sessions/\(sessions[namespace]![0])", user))
            }
        }
        client.resetRequestCounts()
        let warmed = load.run(warm)
        console.out("warm-up (cold caches: a TokenReview per user, a review per user, namespace and verb): \(warmed.summary); "
                    + "cluster requests \(client.requestCounts.reads) reads, \(client.requestCounts.writes) writes\n")

        for (label, lists, gets) in [("list and get mixed", true, true), ("list alone", true, false)] {
            client.resetRequestCounts()
            let before = accessReviewer.statistics
            let outcome = load.run(plan(rate * seconds, lists: lists, gets: gets))
            let after = accessReviewer.statistics
            console.out("\(label) at \(rate)/s: \(outcome.summary); decision cache \(after.hits - before.hits) hits, \(after.misses - before.misses) misses; "
                        + "cluster requests \(client.requestCounts.reads) reads, \(client.requestCounts.writes) writes\n")
        }
        return Tenantry.ExitCode.success
    }

    private static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return OpenLoopLoad.Outcome.format(seconds)
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
