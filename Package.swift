// swift-tools-version:6.0
// The package is the architecture diagram: C libraries enter once through CTenantry;
// Model is pure Swift; each domain module sees Swift types only; `tenantry` is a thin @main.
import PackageDescription

let package = Package(
    name: "Tenantry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tenantry", targets: ["tenantry"]),
    ],
    targets: [
        // libyaml, OpenSSL libcrypto, libgit2, libcurl, libmicrohttpd, SQLite: one module map, one shim header.
        .systemLibrary(name: "CTenantry", path: "Sources/CTenantry"),
        // Domain values: Platform, Tenant, NamespacePolicy, Session, JSON, manifest objects, diagnostics.
        .target(name: "Model", path: "Sources/Model"),
        // One wrapper file per C library that the others share (YAML.swift, Crypto.swift, SQLite.swift), and the
        // command-line parser every command uses.
        .target(name: "Support", dependencies: ["CTenantry", "Model"], path: "Sources/Support"),
        // Tenant repo → validated model → ordered, deterministic manifests.
        .target(name: "Render", dependencies: ["Model", "Support"], path: "Sources/Render"),
        // The libcurl-based HTTP client the Kubernetes and GitHub clients share (keep-alive, TLS, gzip).
        .target(name: "HTTPClient", dependencies: ["CTenantry"], path: "Sources/HTTPClient"),
        // Follows the tenant repository with libgit2 and commits status reports back to it.
        .target(name: "GitSync", dependencies: ["CTenantry", "Model", "Support"], path: "Sources/GitSync"),
        // `tenantry plan`: two sides of a tenant-repo change, explained in access and money; posted on GitHub.
        .target(name: "Plan", dependencies: ["Model", "Support", "Render", "GitSync", "HTTPClient"], path: "Sources/Plan"),
        // Command-line parsing, the commands, and the one place that maps errors to exit codes.
        .target(name: "Commands", dependencies: ["Model", "Support", "Render", "GitSync", "Plan", "Reconciler", "Webhooks", "LocalCluster", "Audit", "Access", "Apply"], path: "Sources/Commands"),
        // The one wrapper over libmicrohttpd: Request values in, Response values (bytes or a stream) out.
        .target(name: "HTTPServer", dependencies: ["CTenantry"], path: "Sources/HTTPServer"),
        // A Kubernetes-compatible API server on SQLite: the embedded default target and the test cluster.
        .target(name: "LocalCluster", dependencies: ["Model", "Support", "HTTPServer"], path: "Sources/LocalCluster"),
        // The Kubernetes client and the apply engine (after Flux's ssa): staged server-side apply, inventory, prune, diff.
        .target(name: "Apply", dependencies: ["Model", "Support", "HTTPClient"], path: "Sources/Apply"),
        // Render → Apply → status report: the reconcile loop and the apply, diff and reconcile commands.
        .target(name: "Reconciler", dependencies: ["Apply", "Render", "GitSync", "Model", "Support", "LocalCluster"], path: "Sources/Reconciler"),
        // GitHub, Jira and Slack deliveries → Session objects: sender proof, routing, triggers, admission, SQLite journal.
        .target(name: "Webhooks", dependencies: ["Model", "Support", "Render", "HTTPServer", "HTTPClient", "Apply", "LocalCluster", "Plan", "GitSync", "Reconciler"], path: "Sources/Webhooks"),
        // Who is calling the Sessions API and may they: OIDC and TokenReview authentication, SubjectAccessReview authorization.
        .target(name: "Access", dependencies: ["Model", "Support", "HTTPClient", "Apply"], path: "Sources/Access"),
        // The append-only, hash-chained audit trail of the Sessions API in SQLite.
        .target(name: "Audit", dependencies: ["Model", "Support"], path: "Sources/Audit"),
        // The Sessions API endpoints that need no session controller (whoami, user/namespaces, audit), as a handler for serve.
        .target(name: "SessionsAPI", dependencies: ["Access", "Audit", "HTTPServer", "Model"], path: "Sources/SessionsAPI"),
        .executableTarget(name: "tenantry", dependencies: ["Commands"], path: "Sources/tenantry"),

        // Fixtures shared by the test targets: temporary tenant repos, the CLI run in-process.
        .target(name: "TestSupport", dependencies: ["Commands", "Render", "Model"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support", "Model"], path: "Tests/SupportTests"),
        .testTarget(name: "RenderTests", dependencies: ["Render", "Support", "Model", "TestSupport"], path: "Tests/RenderTests"),
        .testTarget(name: "CommandsTests", dependencies: ["Commands", "Render", "Model", "TestSupport", "LocalCluster"], path: "Tests/CommandsTests"),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"], path: "Tests/HTTPClientTests"),
        .testTarget(name: "GitSyncTests", dependencies: ["GitSync", "Model"], path: "Tests/GitSyncTests"),
        // A local cluster per test over TLS, example manifests, fixtures: shared by ApplyTests and ReconcilerTests.
        .target(name: "ApplyTestSupport", dependencies: ["Apply", "LocalCluster", "Render", "Model", "Support"], path: "Tests/ApplyTestSupport"),
        .testTarget(name: "ApplyTests", dependencies: ["Apply", "ApplyTestSupport", "LocalCluster", "Render", "Model"], path: "Tests/ApplyTests"),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "Apply", "ApplyTestSupport", "LocalCluster", "Commands", "Render", "Model", "TestSupport"], path: "Tests/ReconcilerTests"),
        .testTarget(name: "PlanTests", dependencies: ["Plan", "Commands", "GitSync", "Render", "Model", "HTTPClient"], path: "Tests/PlanTests"),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "LocalCluster", "HTTPServer", "HTTPClient", "Render", "Model", "Support", "TestSupport", "tenantry"], path: "Tests/WebhooksTests"),
        .testTarget(name: "LocalClusterTests", dependencies: ["LocalCluster", "HTTPServer", "Model", "Support", "tenantry"], path: "Tests/LocalClusterTests"),
        .testTarget(name: "AccessTests", dependencies: ["Access", "Apply", "ApplyTestSupport", "LocalCluster", "HTTPServer", "HTTPClient", "Reconciler", "Render", "Model", "Support", "TestSupport"], path: "Tests/AccessTests"),
        .testTarget(name: "SessionsAPITests", dependencies: ["SessionsAPI", "Access", "Audit", "ApplyTestSupport", "LocalCluster", "HTTPServer", "HTTPClient", "Reconciler", "Render", "Model", "Support", "TestSupport"], path: "Tests/SessionsAPITests"),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Commands", "Model", "Support", "TestSupport"], path: "Tests/AuditTests"),
    ],
    swiftLanguageModes: [.v6]
)
