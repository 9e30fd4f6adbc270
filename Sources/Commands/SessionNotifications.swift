import Foundation
import Model
import Notifications
import SessionController
import Sessions

/// The session controller's steps → the notifications' transitions (specs/notifications.md, Events): which events a
/// step is, from the status before and after it, with the tenant's webhooks and signing secret from the namespace's
/// NamespacePolicy and the origin from the trigger. Pure; the same step always gives the same transitions, so a
/// step told again after a restart adds nothing to the outbox.
enum SessionNotifications {
    static func transitions(_ step: SessionStep) -> [SessionTransition] {
        let before = step.previous, after = step.status
        var events: [NotificationEvent] = []
        // Never reconciled before: the Session was just admitted.
        if before.observedGeneration == 0 && before.history.isEmpty { events.append(.sessionCreated) }
        let approvalBefore = before.conditions[Condition.approved]?.reason, approvalAfter = after.conditions[Condition.approved]?.reason
        if approvalAfter != approvalBefore {
            if approvalAfter == "AwaitingApproval" { events.append(.approvalRequired) }
            if approvalAfter == "Approved" || approvalAfter == SessionMachine.Reason.rejected { events.append(.approvalDecided) }
        }
        if after.phase == .running && before.phase != .running { events.append(.sessionRunning) }
        if after.isFinal && !before.isFinal {
            switch after.phase {
            case .completed: events.append(.sessionCompleted)
            case .stopped: events.append(.sessionStopped)
            default: events.append(.sessionFailed)
            }
        }
        let base = transition(.sessionCreated, step)
        var transitions = events.map { event in
            var transition = base
            transition.event = event
            return transition
        }
        if let ledger = step.settledLedger {
            for threshold in BudgetThreshold.reached(month: ledger.month, monthly: ledger.monthly, spent: ledger.spent) {
                var transition = base
                transition.event = .budgetThreshold
                transition.threshold = threshold
                transition.summary = "\(threshold.percent) % of the monthly budget of \(ledger.monthly) \(base.currency ?? "") is spent for \(ledger.month) (spent \(ledger.spent))"
                transitions.append(transition)
            }
        }
        return transitions
    }

    /// What every transition of the step shares.
    static func transition(_ event: NotificationEvent, _ step: SessionStep) -> SessionTransition {
        let status = step.status, session = step.session
        let notifications = step.policy?["spec"]?["notifications"]
        let webhooks = notifications?["webhooks"]?.arrayValue?.compactMap { item -> NotificationWebhook? in
            guard let url = item["url"]?.stringValue else { return nil }
            return NotificationWebhook(url: url, events: item["events"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        } ?? []
        // The Secret is read in the session's namespace: each of the tenant's namespaces names the same one.
        let secret = notifications?["signingSecret"]?.stringValue.map { SecretReference(namespace: session.namespace, name: $0) }
        let tenant = step.object["metadata"]?["labels"]?[ManagedBy.tenantLabel]?.stringValue ?? session.namespace
        let summary = status.summary ?? (status.message.isEmpty ? "\(session.name) is \(status.phase.rawValue)" : status.message)
        return SessionTransition(event: event, time: step.now, tenant: tenant, namespace: session.namespace, session: session.name,
                                 phase: status.phase, reason: status.reason, summary: summary,
                                 cost: status.cost.actual ?? status.cost.estimated, currency: status.cost.currency,
                                 origin: origin(session.trigger), webhooks: webhooks, signingSecret: secret)
    }

    /// Where the session started, from the trigger payload the webhook intake trimmed (Webhooks/InboundEvent.swift).
    static func origin(_ trigger: Session.Trigger) -> SessionOrigin? {
        let payload = trigger.payload
        func text(_ key: String) -> String? { payload[key]?.stringValue }
        switch trigger.source {
        case .github:
            return SessionOrigin(source: .github, repository: text("repository"), number: payload["number"]?.intValue,
                                 isPullRequest: payload["pullRequest"]?.boolValue ?? false, headSHA: text("headSha"), url: text("url"))
        case .jira:
            // The site is that of the issue's page (`https://SITE/browse/KEY`); only the configured site is answered.
            let url = text("url")
            let site = url.flatMap { $0.range(of: "/browse/") }.map { String(url![..<$0.lowerBound]) }
            return SessionOrigin(source: .jira, jiraKey: text("issue"), jiraSite: site, url: url)
        case .slack:
            return SessionOrigin(source: .slack, slackChannel: text("responseUrl") == nil ? text("channel") : nil,
                                 slackThread: text("threadTs"), slackResponseURL: text("responseUrl"), url: text("url"))
        case .generic, .manual:
            return nil
        }
    }
}
