import Apply
import Audit
import Foundation
import GitHub
import HTTPClient
import Model
import Notifications
import SessionController
import Sessions
import Support

/// The notification flags of `tenantry controller` and `serve --controller`, and the wiring they configure: the
/// Notifier told by the controller's steps hook, its delivery loop, the Secret lookup, and the recorder writing every
/// attempt into the session's history (through the controller) and the audit trail (specs/notifications.md).
enum NotifyFlags {
    static let usage = """
      --notify-outbox PATH     the notifications outbox, SQLite (default ./tenantry-notifications.db); `none` sends none
      --ui-base-url URL        Tenantry's web UI, for links in notifications (default: no UI link)
      --api-base-url URL       Tenantry's API as people reach it, for links in notifications (default: no API link)
      --jira-site URL          the Jira site answered on (https://example.atlassian.net); sessions from others are not
      --jira-user NAME         with --jira-token: Jira Cloud's Basic user:token (without it, a Bearer personal token)
      --jira-token REF         the Jira token: file:PATH, env:NAME or secret:NAMESPACE/NAME[/KEY] (never printed)
      --slack-api URL          Slack's Web API (default https://slack.com/api)
      --slack-token REF        the Slack bot token, as --jira-token
      --notify-ca-file PATH    extra CAs (PEM) to trust for callbacks, GitHub, Jira and Slack (default: the system's)
      --notify-timeout S       seconds per delivery request (default 15)
      --audit-db PATH          the audit trail every delivery attempt is recorded in (default \(AuditCommand.defaultDatabase))
    Where notifications may go: platform.yaml notifications.denyCIDRs / allowCIDRs (loopback and link-local are
    always denied unless allowed there). A tenant's callbacks are signed with the Secret its tenant file names in
    policy.notifications.signingSecret, read from the session's namespace when sent.
    """

    static let valued = ["--notify-outbox", "--ui-base-url", "--api-base-url", "--jira-site", "--jira-user", "--jira-token",
                         "--slack-api", "--slack-token", "--notify-ca-file", "--notify-timeout", "--audit-db"]

    struct Flags: Sendable {
        /// nil: notifications are off (`--notify-outbox none`).
        var outbox: String? = "tenantry-notifications.db"
        /// The audit trail already open in this process (`serve`'s): one writer per file keeps the hash chain whole.
        var auditLog: AuditLog?
        var uiBaseURL: String?
        var apiBaseURL: String?
        var jiraSite: String?
        var jiraUser: String?
        var jiraToken: Credential?
        var slackAPI = "https://slack.com/api"
        var slackToken: Credential?
        var caFile: String?
        var timeout: TimeInterval = 15
        var auditDatabase = AuditCommand.defaultDatabase
        /// `--github-api` / `--github-token-file`, as `serve --plan-repo` reads them.
        var githubAPI = "https://api.github.com"
        var githubTokenFile: String?
    }

    static func parse(_ args: Arguments) throws(UsageError) -> Flags {
        var flags = Flags()
        if let path = args.value("--notify-outbox") { flags.outbox = path == "none" ? nil : path }
        flags.uiBaseURL = args.value("--ui-base-url")
        flags.apiBaseURL = args.value("--api-base-url")
        flags.jiraSite = args.value("--jira-site")
        flags.jiraUser = args.value("--jira-user")
        if let text = args.value("--jira-token") { flags.jiraToken = try credential("--jira-token", text) }
        if let url = args.value("--slack-api") { flags.slackAPI = url }
        if let text = args.value("--slack-token") { flags.slackToken = try credential("--slack-token", text) }
        if flags.jiraToken != nil && flags.jiraSite == nil { throw UsageError("--jira-token needs --jira-site, the one site the token is sent to") }
        flags.caFile = args.value("--notify-ca-file")
        if let text = args.value("--notify-timeout") {
            guard let seconds = TimeInterval(text), seconds > 0 else { throw UsageError("--notify-timeout takes seconds (more than 0), got \"\(text)\"") }
            flags.timeout = seconds
        }
        if let path = args.value("--audit-db") { flags.auditDatabase = path }
        if let url = args.value("--github-api") { flags.githubAPI = url }
        flags.githubTokenFile = args.value("--github-token-file")
        return flags
    }

    /// `file:PATH`, `env:NAME` or `secret:NAMESPACE/NAME[/KEY]` (key default `token`): where a token lives, not the token.
    static func credential(_ flag: String, _ text: String) throws(UsageError) -> Credential {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw UsageError("\(flag) takes file:PATH, env:NAME or secret:NAMESPACE/NAME[/KEY] (where the token lives, never the token)")
        }
        switch parts[0] {
        case "file": return .file(parts[1])
        case "env": return .environment(parts[1])
        case "secret":
            let names = parts[1].split(separator: "/").map(String.init)
            guard names.count == 2 || names.count == 3 else { throw UsageError("\(flag) secret: takes NAMESPACE/NAME or NAMESPACE/NAME/KEY") }
            return .secret(SecretReference(namespace: names[0], name: names[1], key: names.count == 3 ? names[2] : "token"))
        default:
            throw UsageError("\(flag) takes file:PATH, env:NAME or secret:NAMESPACE/NAME[/KEY], got \(parts[0]):…")
        }
    }

    /// The notifier and its delivery loop, running beside a controller.
    final class Running: Sendable {
        let notifier: Notifier

        init(notifier: Notifier) { self.notifier = notifier }

        /// Delivers on its own thread while `controller` runs (the process that reconciles is the one that sends).
        func start(beside controller: SessionController, log: @escaping @Sendable (String) -> Void) {
            let notifier = self.notifier
            let thread = Thread { notifier.run(log: log, shouldStop: { controller.isStopped }) }
            thread.name = "notifications delivery"
            thread.start()
        }
    }

    /// Builds the notifier for a controller about to start; nil when notifications are off. `configuration.steps`
    /// records each step's transitions in the outbox; the returned value starts the delivery loop.
    static func prepare(_ flags: Flags, platform: Platform, client: KubeClient, configuration: inout SessionController.Configuration,
                        controller box: ControllerBox, environment: [String: String], log: @escaping @Sendable (String) -> Void) throws -> Running? {
        guard let path = flags.outbox else { return nil }
        let tls = TLSOptions(caFile: flags.caFile)
        var github: GitHubClient?
        if let token = try? GitHubToken.resolve(file: flags.githubTokenFile, environment: environment) {
            github = GitHubClient(apiURL: flags.githubAPI, token: token, http: HTTPClient(tls: tls))
        } else if let file = flags.githubTokenFile {
            throw UsageError("--github-token-file \(file) cannot be read; GitHub answers need the token")
        }
        var unanswered: [String] = []
        if github == nil { unanswered.append("GitHub (--github-token-file or $GITHUB_TOKEN)") }
        if flags.jiraSite == nil || flags.jiraToken == nil { unanswered.append("Jira (--jira-site, --jira-token)") }
        if flags.slackToken == nil { unanswered.append("Slack (--slack-token)") }
        if !unanswered.isEmpty { log("notifications: no answers on the origin for \(unanswered.joined(separator: ", ")); tenant callbacks are sent") }
        let audit: AuditLog
        if let shared = flags.auditLog {
            audit = shared
        } else { do {
            let directory = (flags.auditDatabase as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            audit = try AuditLog(path: flags.auditDatabase)
        } catch {
            throw UsageError("the audit trail \(flags.auditDatabase) cannot be opened: \(error); pass --audit-db PATH")
        } }
        let config = Notifier.Configuration(
            outboxPath: path, links: NotificationLinks(uiBaseURL: flags.uiBaseURL, apiBaseURL: flags.apiBaseURL),
            retry: RetryPolicy(requestTimeout: flags.timeout), addresses: AddressPolicy(platform: platform.notificationAddresses),
            github: github, jira: flags.jiraSite.flatMap { site in flags.jiraToken.map { JiraConfiguration(site: site, user: flags.jiraUser, token: $0) } },
            slack: flags.slackToken.map { SlackConfiguration(apiURL: flags.slackAPI, token: $0) }, tls: tls)
        let notifier: Notifier
        do {
            notifier = try Notifier(config, secrets: secretLookup(client), recorder: { attempt in
                record(attempt, audit: audit, controller: box, log: log)
            })
        } catch {
            throw UsageError("the notifications outbox \(path) cannot be opened: \(error); pass --notify-outbox PATH (or none)")
        }
        configuration.steps = { step in
            let transitions = SessionNotifications.transitions(step)
            if !transitions.isEmpty { try notifier.record(transitions) }
        }
        return Running(notifier: notifier)
    }

    /// Reads a Secret key from the cluster when a delivery is made (never cached, never logged).
    static func secretLookup(_ client: KubeClient) -> SecretLookup {
        { reference in
            let object: JSONObject?
            do {
                object = try client.get(ObjectReference(apiVersion: "v1", kind: "Secret", namespace: reference.namespace, name: reference.name))
            } catch {
                throw DeliveryRefusal("\(reference) cannot be read: \(error)")
            }
            guard let object else { throw DeliveryRefusal("secrets \"\(reference.name)\" not found in namespace \(reference.namespace)") }
            guard let encoded = object["data"]?[reference.key]?.stringValue, let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
                throw DeliveryRefusal("\(reference) is missing or empty")
            }
            return Array(bytes)
        }
    }

    /// One attempt into the session's history (the controller writes it) and the audit trail.
    static func record(_ attempt: DeliveryAttempt, audit: AuditLog, controller box: ControllerBox, log: @Sendable (String) -> Void) {
        var data: JSONObject = ["delivery": .string(attempt.delivery), "event": .string(attempt.event.rawValue),
                                "target": .string(attempt.target), "attempt": .int(attempt.attempt)]
        if let status = attempt.status { data["status"] = .int(status) }
        if let error = attempt.error { data["error"] = .string(error) }
        let outcome: String
        switch attempt.outcome {
        case .delivered: outcome = "delivered"
        case .retrying(let next):
            outcome = "retrying"
            data["nextAttempt"] = .string(Timestamp.rfc3339(next))
        case .failed: outcome = "failed"
        case .superseded: outcome = "superseded"
        }
        data["outcome"] = .string(outcome)
        let parts = attempt.subject.split(separator: "/", maxSplits: 1).map(String.init)
        // A budget threshold's subject is the tenant: it has no session history, only the audit trail.
        let namespace = parts[0], session = parts.count == 2 ? parts[1] : ""
        if !session.isEmpty {
            box.controller?.appendHistory(HistoryEntry(timestamp: attempt.time, event: "Notification", actor: actor, data: data),
                                          namespace: namespace, name: session)
        }
        do {
            try audit.append(AuditRecord(timestamp: attempt.time, namespace: namespace, session: session, actor: actor, action: "notify",
                                         resource: "sessions/notifications", outcome: outcome, details: data))
        } catch {
            log("notifications: attempt \(attempt.attempt) of \(attempt.delivery) not audited: \(error)")
        }
        switch attempt.outcome {
        case .delivered, .superseded: return
        case .retrying, .failed: break
        }
        log("notification \(attempt.event.rawValue) of \(attempt.subject) to \(attempt.target): attempt \(attempt.attempt) \(outcome)\(attempt.error.map { ": \($0)" } ?? "")")
    }

    static let actor = "tenantry-notifications"
}

/// The controller the recorder appends history through, known only once it is created (after the notifier).
final class ControllerBox: @unchecked Sendable {
    // Unchecked: set once under `lock`, read under it.
    private let lock = NSLock()
    private var value: SessionController?

    var controller: SessionController? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set(_ controller: SessionController) {
        lock.lock()
        value = controller
        lock.unlock()
    }
}
