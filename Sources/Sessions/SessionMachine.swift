import Foundation
import Support
import Model

/// The session state machine: what the controller observed (the Session, its namespace's policy now, the Job and
/// Pod) and the time → the Session's next status and the actions that get it there. Pure: the controller does the
/// I/O (create, delete, status patch, events, ledger compare-and-swap) and calls it again on the next change.
/// Phase: Pending → Running → Completed | Failed | Stopped; a final phase is never left.
public enum SessionMachine {
    public struct Input: Sendable {
        public var session: SessionObject
        /// The namespace's NamespacePolicy as it is now; nil when it is gone.
        public var policy: PolicySnapshot?
        public var job: ObservedJob?
        /// The newest Pod of the Job.
        public var pod: ObservedPod?
        /// What admission reserved for the session (the platform's price for its model).
        public var estimatedCost: Amount
        /// The model's price, to turn reported tokens into money when the runner reports no cost.
        public var pricing: ModelOffer.Pricing?
        public var environment: RunnerEnvironment
        public var now: Date
        /// Entries others asked the controller to add to the history (a notification's attempts): appended first.
        public var notes: [HistoryEntry] = []
        /// Why the Job has no Pod: the job controller's `FailedCreate` message (`Error creating: pods "…" is forbidden:
        /// exceeded quota: …`), nil once a Pod was created after it.
        public var podRefusal: String?

        public init(session: SessionObject, policy: PolicySnapshot?, job: ObservedJob?, pod: ObservedPod?, estimatedCost: Amount,
                    pricing: ModelOffer.Pricing? = nil, environment: RunnerEnvironment, now: Date) {
            self.session = session
            self.policy = policy
            self.job = job
            self.pod = pod
            self.estimatedCost = estimatedCost
            self.pricing = pricing
            self.environment = environment
            self.now = now
        }
    }

    public enum Action: Sendable, Hashable {
        /// Create (an AlreadyExists answer is success: the name is deterministic).
        case createConfigMap(JSONObject)
        case createJob(JSONObject)
        /// Delete the Job with `propagationPolicy: Background`, so its Pod (the runner process) goes too.
        case deleteJob(name: String)
        case recordEvent(SessionEvent)
        /// Move the session's reservation (made in `month`) to spent at `actual`, by compare-and-swap on the ledger.
        case settleBudget(reservation: Amount, month: String, actual: Amount)
        /// Give the reservation back: the session never ran.
        case releaseBudget(reservation: Amount, month: String)
        /// Store these history entries (the oldest) as artifact `name` of the session before writing the status.
        case archiveHistory(name: String, entries: [HistoryEntry])
    }

    public struct Decision: Sendable {
        public var status: SessionStatus
        public var actions: [Action]
        /// Call again after this long even if nothing changes (an approval deadline).
        public var requeueAfter: TimeInterval?
        /// Whether `status` differs from the Session's: write it only then.
        public var statusChanged: Bool
    }

    /// Failure reasons a user can act on, as they appear in `status.reason` and on Events.
    public enum Reason {
        public static let imagePullBackOff = "ImagePullBackOff"
        public static let crashLoopBackOff = "CrashLoopBackOff"
        public static let oomKilled = "OOMKilled"
        public static let timeout = "Timeout"
        public static let evicted = "Evicted"
        public static let nodeLost = "NodeLost"
        public static let policyViolation = "PolicyViolation"
        public static let rejected = "Rejected"
        public static let approvalTimeout = "ApprovalTimeout"
        public static let quotaExceeded = "QuotaExceeded"
        public static let userRequested = "UserRequested"
        public static let runnerFailed = "RunnerFailed"
        public static let budgetExceeded = "BudgetExceeded"
        public static let configError = "CreateContainerConfigError"
        public static let workloadConflict = "WorkloadConflict"
        public static let workloadDeleted = "WorkloadDeleted"
        /// The runner would have nothing to run (a `script` Session without a command where the registry names none).
        public static let noRunnerCommand = "NoRunnerCommand"
    }

    public static func reconcile(_ input: Input) -> Decision {
        var run = Run(input: input)
        run.step()
        return run.decision
    }

    /// Why a create failed permanently, as the controller learns it from the API server (403 `exceeded quota`):
    /// the Session fails with `QuotaExceeded` and is never retried.
    public static func createRefused(_ input: Input, quotaMessage: String) -> Decision {
        var run = Run(input: input)
        run.fail(Reason.quotaExceeded, "the namespace's ResourceQuota refused the runner: \(quotaMessage)", ran: false)
        return run.decision
    }
}

/// One reconcile: a working copy of the status, the actions so far and the history entries to append.
private struct Run {
    let input: SessionMachine.Input
    var status: SessionStatus
    var actions: [SessionMachine.Action] = []
    var entries: [HistoryEntry] = []
    var requeueAfter: TimeInterval?

    typealias Reason = SessionMachine.Reason

    init(input: SessionMachine.Input) {
        self.input = input
        status = input.session.status
        entries = input.notes
    }

    var session: SessionObject { input.session }
    var now: Date { input.now }
    var generation: Int { session.generation }
    var jobName: String { status.workload.jobName ?? JobBuilder.jobName(for: session.name) }
    var reservationMonth: String { Timestamp.month(session.creationTimestamp) }

    var decision: SessionMachine.Decision {
        var final = status
        let archived = HistoryArchive.append(entries, to: &final)
        var actions = self.actions
        if !archived.isEmpty {
            let first = session.status.archivedHistory + 1
            actions.insert(.archiveHistory(name: HistoryArchive.artifactName(firstEntry: first, count: archived.count), entries: archived), at: 0)
        }
        final.observedGeneration = generation
        return .init(status: final, actions: actions, requeueAfter: requeueAfter, statusChanged: final != session.status)
    }

    mutating func record(_ event: String, actor: String = HistoryEntry.controller, data: JSONObject = [:]) {
        entries.append(HistoryEntry(timestamp: now, event: event, actor: actor, data: data))
    }

    mutating func condition(_ type: String, _ value: Condition.Status, _ reason: String, _ message: String) -> Bool {
        status.conditions.set(type, value, reason: reason, message: message, now: now, generation: generation)
    }

    mutating func step() {
        if status.cost.estimated == nil { status.cost.estimated = input.estimatedCost }
        if status.cost.currency == nil, let currency = input.policy?.budget.currency { status.cost.currency = currency }
        guard !status.isFinal else { return }
        if let stop = session.stop {
            stopSession(by: stop.by)
            return
        }
        if let job = input.job {
            follow(job)
        } else if status.conditions[Condition.workloadCreated]?.status == .true {
            if status.phase == .running {
                fail(Reason.workloadDeleted, "Job \(jobName) was deleted while the session was running", ran: true)
            } else {
                // Created before, not yet in the cache (or lost in a crash between create and status): create again;
                // the name is deterministic, so the API server answers AlreadyExists if it is there.
                createWorkload()
            }
        } else {
            start()
        }
    }

    // MARK: Before the Job exists

    mutating func start() {
        guard let policy = input.policy else {
            violate("namespace \(session.namespace) has no NamespacePolicy: it is no longer a tenant namespace")
            return
        }
        let model = session.model(defaultModel: policy.defaultModel)
        if !policy.allowsModel(model) {
            violate("model \"\(model)\" is no longer allowed in namespace \(session.namespace) (allowed: \(policy.allowedModels.filter(policy.allowsModel).joined(separator: ", ")))")
            return
        }
        if let tool = session.constraints.allowedTools.first(where: { !policy.allowsTool($0) }) {
            violate("tool \"\(tool)\" is no longer allowed in namespace \(session.namespace)")
            return
        }
        if let ledger = policy.ledger?.rolled(to: now), ledger.reserved.micros + ledger.spent.micros > ledger.monthly.micros {
            let currency = policy.budget.currency
            violate("the monthly budget of \(ledger.monthly) \(currency) is exhausted for \(ledger.month) (spent \(ledger.spent), reserved \(ledger.reserved))")
            return
        }
        do {
            _ = try JobBuilder.image(for: session.framework, policy: policy, runners: input.environment.runners)
        } catch {
            violate(error.message)
            return
        }
        if condition(Condition.policyValidated, .true, "Validated", "the session complies with the namespace's policy") {
            record("PolicyValidated", data: ["model": .string(model)])
        }
        if let missing = JobBuilder.nothingToRun(session.framework, environment: input.environment) {
            fail(Reason.noRunnerCommand, missing, ran: false)
            return
        }
        guard approve(policy) else { return }
        createWorkload()
    }

    mutating func violate(_ message: String) {
        _ = condition(Condition.policyValidated, .false, Reason.policyViolation, message)
        fail(Reason.policyViolation, message, ran: false)
    }

    /// Whether the session may go ahead now; records the wait, the decision or the timeout.
    mutating func approve(_ policy: PolicySnapshot) -> Bool {
        guard session.constraints.approvalRequired || policy.approvalRequired else {
            _ = condition(Condition.approved, .true, "NotRequired", "the namespace's policy requires no approval")
            return true
        }
        switch session.approval?.decision {
        case .approved:
            let by = session.approval!.by
            if condition(Condition.approved, .true, "Approved", "approved by \(by)") {
                record("Approved", actor: by)
                actions.append(.recordEvent(.init(.normal, "Approved", "Session approved by \(by)")))
            }
            return true
        case .rejected:
            let by = session.approval!.by
            _ = condition(Condition.approved, .false, Reason.rejected, "rejected by \(by)")
            record("Rejected", actor: by)
            fail(Reason.rejected, "rejected by \(by)", ran: false)
            return false
        case nil:
            let waited = now.timeIntervalSince(session.creationTimestamp)
            if waited >= policy.approvalTimeout {
                let message = "no approver decided within \(Int(policy.approvalTimeout / 3600))h (approvers: \(policy.approvers.joined(separator: ", ")))"
                _ = condition(Condition.approved, .false, Reason.approvalTimeout, message)
                fail(Reason.approvalTimeout, message, ran: false)
                return false
            }
            let message = "waiting for one of \(policy.approvers.isEmpty ? "the namespace's approvers" : policy.approvers.joined(separator: ", ")) to approve"
            if condition(Condition.approved, .false, "AwaitingApproval", message) {
                record("ApprovalRequested", data: ["approvers": .strings(policy.approvers)])
                actions.append(.recordEvent(.init(.normal, "AwaitingApproval", message)))
            }
            requeueAfter = policy.approvalTimeout - waited
            return false
        }
    }

    mutating func createWorkload() {
        guard let policy = input.policy else {
            violate("namespace \(session.namespace) has no NamespacePolicy: it is no longer a tenant namespace")
            return
        }
        let job: JSONObject
        do { job = try JobBuilder.job(session, policy: policy, environment: input.environment) } catch {
            violate(error.message)
            return
        }
        var budget = input.estimatedCost
        if let ledger = policy.ledger?.rolled(to: now) { budget = Amount(micros: ledger.remaining.micros + input.estimatedCost.micros) }
        if let cap = session.constraints.budget, cap < budget { budget = cap }
        let file = JobBuilder.sessionFile(session, policy: policy, environment: input.environment, budget: budget)
        actions.append(.createConfigMap(JobBuilder.configMap(session, file: file)))
        actions.append(.createJob(job))
        status.workload.jobName = JobBuilder.jobName(for: session.name)
        if condition(Condition.workloadCreated, .true, "JobCreated", "Job \(jobName) runs the session") {
            record("JobCreated", data: ["jobName": .string(jobName)])
            actions.append(.recordEvent(.init(.normal, "JobCreated", "Created Job \(jobName)")))
        }
    }

    // MARK: While the Job exists

    mutating func follow(_ job: ObservedJob) {
        if job.ownerUID != session.uid {
            fail(Reason.workloadConflict, "a Job named \(job.name) exists and is not controlled by this Session; delete it or rename the Session", ran: false)
            return
        }
        status.workload.jobName = job.name
        if status.phase == .pending, let refusal = input.podRefusal {
            waitForPod(of: job.name, refusal)
        } else {
            _ = condition(Condition.workloadCreated, .true, "JobCreated", "Job \(job.name) runs the session")
        }
        let pod = input.pod
        if let pod { status.workload.podName = pod.name }
        if let pod, let waiting = pod.waitingReason {
            switch waiting {
            case "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
                fail(Reason.imagePullBackOff, "the runner image cannot be pulled: \(pod.waitingMessage ?? waiting)", ran: false)
                actions.append(.deleteJob(name: job.name))
                return
            case "CrashLoopBackOff":
                fail(Reason.crashLoopBackOff, "the runner keeps crashing: \(pod.waitingMessage ?? waiting)", ran: true)
                actions.append(.deleteJob(name: job.name))
                return
            case "CreateContainerConfigError":
                fail(Reason.configError, "the runner container cannot be configured (a missing Secret or ConfigMap?): \(pod.waitingMessage ?? waiting)", ran: false)
                actions.append(.deleteJob(name: job.name))
                return
            default: break
            }
        }
        let summary = parseSummary(pod)
        if job.complete || job.failedReason != nil, job.failedReason != "DeadlineExceeded", let pod,
           [.pending, .running].contains(pod.phase), pod.terminatedReason == nil, pod.reason == nil {
            // The Job saw its Pod end before the Pod cache did (two watches): wait for the Pod's own update, whose
            // event queues the Session again, for the runner's summary and why it ended (NodeLost, the exit code).
            requeueAfter = 1
            return
        }
        if job.complete {
            complete(summary)
            return
        }
        if let reason = job.failedReason {
            failedJob(reason: reason, message: job.failedMessage, pod: pod, summary: summary)
            return
        }
        if let pod, pod.phase == .running, status.phase == .pending {
            status.phase = .running
            status.startTime = status.startTime ?? pod.startTime ?? now
            _ = condition(Condition.running, .true, "PodRunning", "Pod \(pod.name) is running the session")
            record("Running", data: ["podName": .string(pod.name)])
            actions.append(.recordEvent(.init(.normal, "Running", "Pod \(pod.name) started the runner")))
        }
    }

    /// The Job exists but the API server refuses its Pod (a ResourceQuota on `pods` that is full, most often): the
    /// Session stays Pending, since the job controller retries and room may free, and says why, once in its history.
    mutating func waitForPod(of jobName: String, _ refusal: String) {
        // The job controller's words: "Error creating: " and the API server's refusal (after ten, "(combined from similar events): " first).
        var refused = Substring(refusal)
        for prefix in ["(combined from similar events): ", "Error creating: "] where refused.hasPrefix(prefix) { refused = refused.dropFirst(prefix.count) }
        let quota = refused.contains("exceeded quota")
        let reason = quota ? Reason.quotaExceeded : "FailedCreate"
        let message = quota
            ? "waiting for room in the namespace's ResourceQuota; the job controller creates the runner's Pod when there is: \(refused)"
            : "the runner's Pod cannot be created yet; the job controller retries: \(refused)"
        if condition(Condition.workloadCreated, .false, reason, message) {
            record(reason, data: ["jobName": .string(jobName), "message": .string(String(refused))])
            actions.append(.recordEvent(.init(.warning, reason, message)))
        }
    }

    /// The runner's termination message, parsed; a malformed one is recorded in the history (the run still counts).
    mutating func parseSummary(_ pod: ObservedPod?) -> RunnerSummary? {
        guard let text = pod?.terminationMessage, pod?.terminatedReason != nil else { return nil }
        do { return try RunnerSummary(terminationMessage: text) } catch {
            record("SummaryInvalid", data: ["error": .string(error.description)])
            return nil
        }
    }

    mutating func complete(_ summary: RunnerSummary?) {
        status.summary = summary?.summary
        finish(.completed, reason: "", message: summary?.summary ?? "the runner exited 0")
        _ = condition(Condition.running, .false, "Completed", "the runner finished")
        _ = condition(Condition.succeeded, .true, "Completed", summary?.summary ?? "the runner exited 0")
        record("Completed", data: usageData(summary))
        actions.append(.recordEvent(.init(.normal, "Completed", "Session completed" + (summary.map { ": \($0.summary)" } ?? ""))))
        settle(summary)
    }

    mutating func failedJob(reason jobReason: String, message: String?, pod: ObservedPod?, summary: RunnerSummary?) {
        status.summary = summary?.summary
        if jobReason == "DeadlineExceeded" {
            let seconds = Int(input.policy?.sessionTimeout ?? 0)
            fail(Reason.timeout, "the session ran longer than its timeout of \(seconds)s and was stopped", ran: true, summary: summary)
            return
        }
        // The runner stopped its agent itself and said why.
        if summary?.result == .deadlineExceeded {
            let seconds = Int(input.policy?.sessionTimeout ?? 0)
            fail(Reason.timeout, "the runner stopped the agent at the session's timeout of \(seconds)s", ran: true, summary: summary)
            return
        }
        if summary?.result == .budgetExceeded {
            fail(Reason.budgetExceeded, "the runner stopped the agent when the session's budget was spent: \(summary!.summary)", ran: true, summary: summary)
            return
        }
        if pod?.terminatedReason == "OOMKilled" {
            fail(Reason.oomKilled, "the runner ran out of memory (limit \(input.environment.containers.defaultLimit.memory.text)); ask for a bigger limit", ran: true, summary: summary)
        } else if pod?.reason == "Evicted" {
            fail(Reason.evicted, "the runner's Pod was evicted: \(pod?.message ?? "node pressure")", ran: true, summary: summary)
        } else if pod?.reason == "NodeLost" || pod?.phase == .unknown {
            fail(Reason.nodeLost, "the node running the session was lost", ran: true, summary: summary)
        } else {
            let exit = pod?.exitCode.map { "exited \($0)" } ?? "failed"
            let detail = summary?.summary ?? message ?? jobReason
            fail(Reason.runnerFailed, "the runner \(exit): \(detail)", ran: true, summary: summary)
        }
    }

    /// Ends the session in Failed. `ran` says whether the runner may have spent money (then it is charged).
    mutating func fail(_ reason: String, _ message: String, ran: Bool, summary: RunnerSummary? = nil) {
        finish(.failed, reason: reason, message: message)
        if status.conditions[Condition.running] != nil || ran {
            _ = condition(Condition.running, .false, reason, message)
        }
        _ = condition(Condition.succeeded, .false, reason, message)
        var data: JSONObject = ["reason": .string(reason), "message": .string(message)]
        for (key, value) in usageData(summary).pairs { data[key] = value }
        record("Failed", data: data)
        actions.append(.recordEvent(.init(.warning, reason, message)))
        if ran { settle(summary) } else { release() }
    }

    mutating func stopSession(by actor: String) {
        // A WorkloadCreated condition, True or False (waiting for its Pod), means the Job was created: it goes, even if
        // the cache has not seen it yet (else the job controller would still create its Pod once there is room).
        let hasJob = input.job != nil || status.conditions[Condition.workloadCreated] != nil
        if hasJob { actions.append(.deleteJob(name: jobName)) }
        // A Job whose Pod was never created (waiting for a quota) ran nothing: its reservation is given back.
        let ran = hasJob && status.conditions[Condition.workloadCreated]?.status != .false
        let message = "stopped by \(actor)"
        finish(.stopped, reason: Reason.userRequested, message: message)
        if status.conditions[Condition.running] != nil { _ = condition(Condition.running, .false, Reason.userRequested, message) }
        _ = condition(Condition.succeeded, .false, Reason.userRequested, message)
        record("Stopped", actor: actor)
        actions.append(.recordEvent(.init(.normal, "Stopped", "Session \(message)")))
        if ran { settle(parseSummary(input.pod)) } else { release() }
    }

    mutating func finish(_ phase: Session.Phase, reason: String, message: String) {
        status.phase = phase
        status.reason = reason
        status.message = message
        status.completionTime = now
    }

    // MARK: Money

    func usageData(_ summary: RunnerSummary?) -> JSONObject {
        guard let summary else { return [:] }
        var data: JSONObject = ["result": .string(summary.result.rawValue), "inputTokens": .int(summary.usage.inputTokens),
                                "outputTokens": .int(summary.usage.outputTokens)]
        if let cost = summary.usage.cost { data["cost"] = .string(cost.description) }
        return data
    }

    /// The actual cost: what the runner reported, else its tokens at the model's price, else the estimate
    /// (a run that reports nothing is charged what was reserved for it).
    func actualCost(_ summary: RunnerSummary?) -> Amount {
        if let cost = summary?.usage.cost { return cost }
        if let summary, case .per1kTokens(let price)? = input.pricing {
            let tokens = Int64(summary.usage.inputTokens + summary.usage.outputTokens)
            return Amount(micros: (tokens * price.micros + 999) / 1000)
        }
        if summary != nil, case .perSession(let price)? = input.pricing { return price }
        return input.estimatedCost
    }

    mutating func settle(_ summary: RunnerSummary?) {
        let actual = actualCost(summary)
        status.cost.actual = actual
        actions.append(.settleBudget(reservation: input.estimatedCost, month: reservationMonth, actual: actual))
    }

    mutating func release() {
        status.cost.actual = Amount(micros: 0)
        actions.append(.releaseBudget(reservation: input.estimatedCost, month: reservationMonth))
    }
}
