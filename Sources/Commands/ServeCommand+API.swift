import Access
import Apply
import Artifacts
import Audit
import Foundation
import LocalCluster
import Model
import Sessions
import SessionsAPI
import Support
import Webhooks

/// `serve`'s Sessions API: authentication from tenantry.yaml's `auth:` (OIDC issuers; TokenReview for the API's
/// audiences), the audit trail, artifact storage, and the webhooks' admission injected for creates and reruns.
extension ServeCommand {
    /// The runners' projected ServiceAccount tokens carry this audience (JobBuilder, specs/runner.md).
    static let runnerAudience = "tenantry"

    struct APIFlags {
        /// nil: next to the journal (`tenantry-audit.db` in its directory).
        var auditDatabase: String?
        /// Replaces the TokenReview audiences of `auth.kubernetes.audiences` (and the embedded cluster's).
        var audiences: [String] = []
        /// nil: `tenantry-artifacts` next to the journal, unless tenantry.yaml has `artifacts.s3`.
        var artifactsDirectory: String?
        /// Also write each audit entry as a JSON line to stdout (for cluster log collection).
        var auditStdout = false
        var auditPruning = AuditPruneFlags()
    }

    static let apiValued = ["--audit-db", "--audience", "--artifacts-dir"] + auditPruneValued
    static let apiSwitches = ["--audit-stdout"]

    static func parseAPI(_ args: Arguments) throws(UsageError) -> APIFlags {
        var flags = APIFlags()
        flags.auditDatabase = args.value("--audit-db")
        flags.audiences = args.values("--audience")
        if flags.audiences.contains(where: \.isEmpty) { throw UsageError("--audience takes a non-empty audience, e.g. tenantry") }
        flags.artifactsDirectory = args.value("--artifacts-dir")
        flags.auditStdout = args.isSet("--audit-stdout")
        flags.auditPruning = try parseAuditPruning(args)
        return flags
    }

    /// Where a file named `name` goes next to the journal.
    static func besideJournal(_ journal: String, _ name: String) -> String {
        let directory = (journal as NSString).deletingLastPathComponent
        return directory.isEmpty ? name : directory + "/" + name
    }

    /// The TokenReview audiences: `--audience` if given; else tenantry.yaml's (default `tenantry`), plus on the
    /// embedded cluster its own audience, which `tenantry cluster token` and `kubectl create token` tokens carry.
    static func audiences(flag: [String], configured: [String], embedded: Bool) -> [String] {
        if !flag.isEmpty { return flag }
        return embedded && !configured.contains(ServiceAccountTokenIssuer.issuer) ? configured + [ServiceAccountTokenIssuer.issuer] : configured
    }

    /// `artifacts.s3` of tenantry.yaml (`{endpoint, bucket, region, prefix}`; keys from $AWS_ACCESS_KEY_ID and
    /// $AWS_SECRET_ACCESS_KEY, never from the file), else a local directory.
    static func artifactStore(_ flags: Flags, document: JSON?, environment: [String: String]) throws -> any ArtifactStore {
        if let directory = flags.api.artifactsDirectory { return LocalArtifactStore(root: directory) }
        guard let s3 = document?["artifacts"]?["s3"] else { return LocalArtifactStore(root: besideJournal(flags.journal, "tenantry-artifacts")) }
        func field(_ name: String) throws -> String {
            guard let value = s3[name]?.stringValue, !value.isEmpty else { throw UsageError("\(flags.config): artifacts.s3.\(name): required") }
            return value
        }
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw UsageError("\(flags.config): artifacts.s3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        return S3ArtifactStore(S3ArtifactStore.Configuration(endpoint: try field("endpoint"), bucket: try field("bucket"),
                                                             region: s3["region"]?.stringValue ?? "us-east-1", prefix: s3["prefix"]?.stringValue ?? "",
                                                             accessKeyID: key, secretAccessKey: secret))
    }

    /// The audit trail `serve` writes (opened before the server, so webhook admissions are recorded from the first).
    static func openAudit(_ flags: Flags, stdout: @escaping @Sendable (String) -> Void) throws -> AuditLog {
        let path = flags.api.auditDatabase ?? besideJournal(flags.journal, "tenantry-audit.db")
        var lines: (@Sendable (String) -> Void)?
        if flags.api.auditStdout { lines = { line in stdout(line + "\n") } }
        do {
            return try AuditLog(path: path, jsonLines: lines)
        } catch {
            throw UsageError("the audit database \(path) cannot be opened: \(error); pass --audit-db PATH")
        }
    }

    /// Each webhook admission decision, as an audit record (actor: the source and delivery).
    static func auditAdmissions(_ audit: AuditLog) -> AdmissionDecided {
        { decision in
            var details: JSONObject = ["source": .string(decision.source.rawValue), "event": .string(decision.event),
                                       "deliveryId": .string(decision.deliveryID), "trigger": .string(decision.rule)]
            if let failure = decision.failure {
                details["rule"] = .string(decision.refusingRule ?? failure.code.rawValue)
                details["message"] = .string(failure.message)
            }
            try audit.append(AuditRecord(namespace: decision.namespace, session: decision.session,
                                         actor: "webhook:\(decision.source.rawValue)", action: decision.admitted ? "admit" : "refuse",
                                         resource: "sessions", outcome: decision.admitted ? "admitted" : "refused", details: details,
                                         traceID: decision.traceID))
        }
    }

    /// A webhook refusal's code in the Sessions API contract's words.
    static func contractCode(_ failure: WebhookFailure) -> String {
        switch failure.code {
        case .policyViolation, .rateLimitExceeded, .notFound, .unavailable: return failure.status == 409 ? "conflict" : failure.code.rawValue
        case .notReady: return "unavailable"
        default: return "invalid_request"
        }
    }

    /// The Sessions API over the cluster, with the webhook service's admission for creates.
    static func sessionsAPI(_ flags: Flags, cluster: ClusterConfig, embedded: Bool, audit: AuditLog, server: WebhookServer,
                            environment: [String: String]) throws -> SessionsAPI {
        var document: JSON?
        if FileManager.default.fileExists(atPath: flags.config) { document = try ConfigDocument.read(at: flags.config) }
        var auth = AuthConfiguration()
        if let document { auth = try AuthConfiguration(document: document, file: flags.config) }
        if var kubernetes = auth.kubernetes {
            kubernetes.audiences = audiences(flag: flags.api.audiences, configured: kubernetes.audiences, embedded: embedded)
            auth.kubernetes = kubernetes
        }
        let client = KubeClient(config: cluster, fieldManager: "tenantry-sessions-api")
        let gate = AccessGate(authenticator: Authenticator(configuration: auth, client: client),
                              reviewer: AccessReviewer(client: client, configuration: auth.authorization))
        let service = server.service
        var api = SessionsAPI(gate: gate, permissions: NamespacePermissions(client: client), audit: audit, namespaces: {
            guard let table = service.tenantTable else { return [:] }
            var infos: [String: SessionsAPI.NamespaceInfo] = [:]
            for (namespace, tenant) in table.tenantOfNamespace {
                guard let policy = table.policies[namespace], let budget = table.budgets[tenant] else { continue }
                infos[namespace] = SessionsAPI.NamespaceInfo(tenant: tenant, models: policy.policy.models.allowed, tools: policy.policy.tools.allowed,
                                                             monthlyBudget: budget.monthly, currency: budget.currency, ledgerNamespace: policy.ledgerNamespace)
            }
            return infos
        })
        api.cluster = client
        api.artifacts = try artifactStore(flags, document: document, environment: environment)
        api.runnerTokens = TokenReviewer(client: client, configuration: KubernetesTokenConfiguration(audiences: [runnerAudience]))
        // GET …/events and …/logs: one Session watch per namespace with listeners.
        api.streams = SessionStreams(feeds: SessionFeeds(client: client))
        // list and get from one watch of every Session (started by serve, which stops it when it returns).
        api.sessionIndex = SessionIndex(client: client)
        api.admit = { request in
            switch service.admitManual(namespace: request.namespace, trigger: request.trigger, framework: request.framework,
                                       labels: request.labels, annotations: request.annotations) {
            case .admitted(let name, let object, let created):
                return .admitted(name: name, object: object, created: created)
            case .refused(let failure):
                return .refused(status: failure.status, error: contractCode(failure), message: failure.message,
                                details: failure.details, retryAfter: failure.retryAfter)
            }
        }
        return api
    }
}
