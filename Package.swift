// swift-tools-version:6.0
// The package is the architecture diagram. Each arrow reads "is imported by"; a module imports only what it
// needs of the layers below it, never a sibling it does not use, and nothing below Commands imports Commands
// (scripts/check-imports.sh, run by scripts/test.sh, fails the build otherwise).
//
//   CTenantry                     the one system library: libyaml, libcrypto, libgit2, libcurl, libmicrohttpd, SQLite
//     <- Model                    domain values: Platform, Tenant, NamespacePolicy, Session, JSON, manifests, diagnostics
//     <- Support                  one of each basic: YAML, crypto, SQLite, timestamps, logging, the flag parser
//        HTTPClient               libcurl: the client the Kubernetes and GitHub clients share
//        HTTPServer               libmicrohttpd: Request values in, Response values out
//     <- GitHub                   the few GitHub REST calls (comments, commit statuses) with its rate limits
//     <- Render                   tenant repo -> validated model -> ordered, deterministic manifests
//        GitSync                  libgit2: follow the tenant repo, commit status reports back
//        Apply                    the Kubernetes client and the apply engine (staged SSA, inventory, prune, diff)
//        LocalCluster             a Kubernetes-compatible API server on SQLite (embedded target, test cluster)
//     <- Reconciler               Render -> Apply -> inventory and prune -> status report; the reconcile loop
//        Plan                     two sides of a tenant-repo change, explained in access and money; GitHub posting
//        Webhooks                 intake only: sender proof, route, trigger, admission, SQLite journal -> Sessions
//        Sessions                 the session state machine, Job builder, budget ledger, session file, runner summary
//        Artifacts                session artifacts in a directory or an S3-compatible bucket, and their API routes
//        Runner                   `tenantry runner` inside a session's pod: clone, run, collect, upload, report
//        Notifications            session transitions -> a durable outbox -> signed tenant callbacks and origin answers
//        Access                   who calls the Sessions API and may they: OIDC, TokenReview, SubjectAccessReview
//        Audit                    the append-only, hash-chained audit trail (SQLite)
//        SessionController        the session controller: list+watch of Sessions, Jobs, Pods, NamespacePolicies -> a Job per Session
//     <- SessionsAPI              the Sessions API endpoints (Access + Audit) as a handler for serve
//        WebUI                    the web UI at /: pages over the Sessions API, called in process with the user's token
//     <- Commands                 the composition root: every command, its flags, logging set-up, the cluster
//                                 choice (kubeconfig or the embedded local cluster), injected hooks, exit codes
//     <- tenantry                 a thin @main
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
        // One wrapper file per C library that the others share (YAML.swift, Crypto.swift, SQLite.swift), and one of
        // each basic: Timestamp, Log, the command-line parser every command uses.
        .target(name: "Support", dependencies: ["CTenantry", "Model"], path: "Sources/Support"),
        // Tenant repo → validated model → ordered, deterministic manifests.
        .target(name: "Render", dependencies: ["Model", "Support"], path: "Sources/Render"),
        // The libcurl-based HTTP client the Kubernetes and GitHub clients share (keep-alive, TLS, gzip).
        .target(name: "HTTPClient", dependencies: ["CTenantry"], path: "Sources/HTTPClient"),
        // Follows the tenant repository with libgit2 and commits status reports back to it.
        .target(name: "GitSync", dependencies: ["CTenantry", "Model", "Support"], path: "Sources/GitSync"),
        // `tenantry plan`: two sides of a tenant-repo change, explained in access and money; posted on GitHub.
        .target(name: "Plan", dependencies: ["Model", "Support", "Render", "GitSync", "HTTPClient", "GitHub"], path: "Sources/Plan"),
        // The GitHub REST calls Plan and Notifications share: comments, commit statuses, rate and secondary limits.
        .target(name: "GitHub", dependencies: ["Model", "Support", "HTTPClient"], path: "Sources/GitHub"),
        // Session transitions → a durable SQLite outbox → signed callbacks to the tenant's webhooks and the answer
        // on the session's origin (a GitHub comment and commit status, a Jira comment, a Slack thread reply).
        .target(name: "Notifications", dependencies: ["Model", "Support", "HTTPClient", "GitHub"], path: "Sources/Notifications"),
        // The composition root: every command (validate, render, source, status, apply, diff, reconcile, plan, serve,
        // cluster, runner, bench), the cluster choice, what Webhooks gets injected, and the one place that maps errors
        // and outcomes to exit codes.
        .target(name: "Commands", dependencies: ["Model", "Support", "Render", "HTTPClient", "GitHub", "GitSync", "Plan", "Apply", "Reconciler", "Webhooks", "LocalCluster", "Sessions", "Runner", "Audit", "Access", "SessionsAPI", "Notifications", "SessionController", "Artifacts", "HTTPServer", "WebUI"], path: "Sources/Commands"),
        // The one wrapper over libmicrohttpd: Request values in, Response values (bytes or a stream) out.
        .target(name: "HTTPServer", dependencies: ["CTenantry", "Support"], path: "Sources/HTTPServer"),
        // A Kubernetes-compatible API server on SQLite: the embedded default target and the test cluster.
        .target(name: "LocalCluster", dependencies: ["CTenantry", "Model", "Support", "HTTPServer"], path: "Sources/LocalCluster"),
        // The Kubernetes client and the apply engine (after Flux's ssa): staged server-side apply, inventory, prune, diff.
        .target(name: "Apply", dependencies: ["Model", "Support", "HTTPClient"], path: "Sources/Apply"),
        // Render → Apply → status report: one reconcile, its diff, and the loop that follows git.
        .target(name: "Reconciler", dependencies: ["Apply", "Render", "GitSync", "Model", "Support"], path: "Sources/Reconciler"),
        // GitHub, Jira and Slack deliveries → Session objects: sender proof, routing, triggers, admission, SQLite journal.
        // Intake only: the pull-request planner and the push-triggered refresh are injected by Commands.
        .target(name: "Webhooks", dependencies: ["Model", "Support", "Render", "HTTPServer", "Apply", "Sessions"], path: "Sources/Webhooks"),
        // Sessions as pure values: the state machine, the Job builder, the budget ledger, the runner's session file and summary.
        .target(name: "Sessions", dependencies: ["Model", "Support"], path: "Sources/Sessions"),
        // Session artifacts in a local directory or an S3-compatible bucket (libcurl's SigV4), and their API routes.
        .target(name: "Artifacts", dependencies: ["Model", "Support", "HTTPClient", "HTTPServer"], path: "Sources/Artifacts"),
        // `tenantry runner`, inside a session's pod: clone, run the framework's command, collect and upload artifacts, report.
        .target(name: "Runner", dependencies: ["Model", "Sessions", "GitSync", "HTTPClient"], path: "Sources/Runner"),
        // Who is calling the Sessions API and may they: OIDC and TokenReview authentication, SubjectAccessReview authorization.
        .target(name: "Access", dependencies: ["Model", "Support", "HTTPClient", "Apply"], path: "Sources/Access"),
        // The append-only, hash-chained audit trail of the Sessions API in SQLite.
        .target(name: "Audit", dependencies: ["Model", "Support"], path: "Sources/Audit"),
        // The Sessions API endpoints (a route table) as a handler for serve; admission of creates is injected (the webhooks').
        .target(name: "SessionsAPI", dependencies: ["Access", "Audit", "Apply", "Artifacts", "Sessions", "HTTPServer", "Model", "Support"], path: "Sources/SessionsAPI"),
        // The web UI `serve` answers at /: pages rendered from the Sessions API's answers (called in process with the
        // user's token from a sealed cookie), token and OIDC login, embedded CSS and script modules.
        .target(name: "WebUI", dependencies: ["HTTPServer", "HTTPClient", "Model", "Support"], path: "Sources/WebUI", resources: [.embedInCode("Assets/app.css"), .embedInCode("Assets/live.js"), .embedInCode("Assets/log.js")]),
        // The session controller: list+watch of Sessions, runner Jobs and Pods, NamespacePolicies; a work queue → SessionMachine.
        .target(name: "SessionController", dependencies: ["Sessions", "Apply", "Model", "Support"], path: "Sources/SessionController"),
        .executableTarget(name: "tenantry", dependencies: ["Commands"], path: "Sources/tenantry"),
        // libFuzzer harnesses (YAML, JSON, webhook bodies, patches); run by scripts/fuzz.sh in its own build.
        .executableTarget(name: "tenantry-fuzz", dependencies: ["Model", "Support", "Webhooks", "LocalCluster"], path: "Sources/Fuzz"),

        // Tests mirror Sources: one <Module>Tests target per module. The fixture kit every test target may use:
        // the one poll helper (`eventually`) and the one git helper (`GitCLI`, git found on PATH).
        .target(name: "TestKit", path: "Tests/TestKit"),
        // Fixtures shared by the test targets: temporary tenant repos, the CLI run in-process (re-exports TestKit).
        .target(name: "TestSupport", dependencies: ["TestKit", "Commands", "Render", "Model", "Apply", "LocalCluster", "Sessions", "SessionController"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelTests", dependencies: ["Model"], path: "Tests/ModelTests"),
        .testTarget(name: "SupportTests", dependencies: ["Support", "Model"], path: "Tests/SupportTests"),
        .testTarget(name: "RenderTests", dependencies: ["Render", "Support", "Model", "TestSupport"], path: "Tests/RenderTests"),
        .testTarget(name: "CommandsTests", dependencies: ["Commands", "tenantry", "Reconciler", "TestKit", "Render", "Model", "Support", "TestSupport", "LocalCluster", "Apply", "ApplyTestSupport", "GitSync", "Webhooks", "Audit", "HTTPClient", "HTTPServer", "Sessions"], path: "Tests/CommandsTests"),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"], path: "Tests/HTTPClientTests"),
        .testTarget(name: "GitSyncTests", dependencies: ["GitSync", "Model", "TestKit"], path: "Tests/GitSyncTests"),
        // A local cluster per test over TLS, example manifests, fixtures: shared by ApplyTests and ReconcilerTests.
        .target(name: "ApplyTestSupport", dependencies: ["Apply", "LocalCluster", "HTTPServer", "Render", "Model", "Support"], path: "Tests/ApplyTestSupport"),
        .testTarget(name: "ApplyTests", dependencies: ["Apply", "ApplyTestSupport", "LocalCluster", "Render", "Model", "TestKit"], path: "Tests/ApplyTests"),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "Apply", "ApplyTestSupport", "Render", "Model", "TestSupport"], path: "Tests/ReconcilerTests"),
        .testTarget(name: "PlanTests", dependencies: ["Plan", "GitHub", "GitSync", "Render", "Model", "HTTPClient", "TestKit"], path: "Tests/PlanTests"),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "GitHub", "Commands", "GitSync", "Plan", "Apply", "TestKit", "LocalCluster", "HTTPClient", "Sessions", "Model", "Support", "TestSupport", "tenantry"], path: "Tests/WebhooksTests"),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPClient"], path: "Tests/HTTPServerTests"),
        .testTarget(name: "LocalClusterTests", dependencies: ["LocalCluster", "ApplyTestSupport", "HTTPServer", "Model", "Support", "TestKit", "TestSupport", "tenantry"], path: "Tests/LocalClusterTests"),
        .testTarget(name: "SessionsTests", dependencies: ["Sessions", "Render", "Model", "Support", "TestSupport"], path: "Tests/SessionsTests"),
        .testTarget(name: "SessionControllerTests", dependencies: ["SessionController", "Sessions", "Artifacts", "Apply", "LocalCluster", "Render", "Model", "Support", "TestSupport", "tenantry"], path: "Tests/SessionControllerTests"),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "HTTPClient", "HTTPServer", "Model", "TestSupport"], path: "Tests/ArtifactsTests"),
        .testTarget(name: "NotificationsTests", dependencies: ["Notifications", "GitHub", "HTTPClient", "HTTPServer", "Model", "Support", "TestKit", "Audit", "Apply", "LocalCluster", "Sessions", "TestSupport", "tenantry"], path: "Tests/NotificationsTests"),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Sessions", "Artifacts", "HTTPServer", "Model", "TestSupport"], path: "Tests/RunnerTests"),
        .testTarget(name: "AccessTests", dependencies: ["Access", "Apply", "ApplyTestSupport", "LocalCluster", "HTTPServer", "HTTPClient", "Reconciler", "Render", "Model", "Support", "TestSupport"], path: "Tests/AccessTests"),
        .testTarget(name: "SessionsAPITests", dependencies: ["SessionsAPI", "Access", "Audit", "Apply", "ApplyTestSupport", "Commands", "Webhooks", "Sessions", "LocalCluster", "HTTPServer", "HTTPClient", "Reconciler", "Render", "Model", "Support", "TestSupport", "Artifacts", "tenantry"], path: "Tests/SessionsAPITests"),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Model", "Support", "TestKit"], path: "Tests/AuditTests"),
        .testTarget(name: "WebUITests", dependencies: ["WebUI", "SessionsAPI", "Access", "Audit", "ApplyTestSupport", "LocalCluster", "HTTPServer", "HTTPClient", "Reconciler", "Render", "Model", "Support", "TestSupport", "tenantry"], path: "Tests/WebUITests"),
    ],
    swiftLanguageModes: [.v6]
)
