import Apply
import Foundation
import Model
import Sessions
import Support

/// One key: the cached objects → `SessionMachine.reconcile` → the actions, then the status (only when it changed).
extension SessionController {
    struct ReconcileError: Error, CustomStringConvertible {
        let description: String
    }

    func reconcile(key: String) throws {
        guard let object = sessions.cache.get(key) else { return notes.drop(key) }
        counters.withLock { $0.reconciles += 1 }
        let session: SessionObject
        switch Result(catching: { () throws(SessionObject.ParseError) -> SessionObject in try SessionObject(object: object) }) {
        case .success(let parsed): session = parsed
        case .failure(let error):
            // A Session the API server accepted but this controller cannot read: say so once per change, do not retry.
            configuration.log("session \(key): cannot be read: \(error)")
            return
        }
        var input = try input(for: session, object: object)
        input.notes = notes.peek(key)
        var decision = SessionMachine.reconcile(input)
        if let refusal = try perform(decision.actions, session: session) {
            counters.withLock { $0.quotaRefusals += 1 }
            decision = SessionMachine.createRefused(input, quotaMessage: refusal)
            _ = try perform(decision.actions, session: session)
        }
        if decision.statusChanged {
            try tellStep(session, object: object, input: input, status: decision.status, actions: decision.actions)
            try writeStatus(decision.status, of: session)
            notes.written(input.notes.count, key: key)
            if decision.status.isFinal, !session.status.isFinal { configuration.finished?(session.namespace, session.name) }
            if decision.status.phase != session.status.phase {
                configuration.log("session \(key): \(session.status.phase.rawValue) → \(decision.status.phase.rawValue)\(decision.status.reason.isEmpty ? "" : " (\(decision.status.reason))")")
            }
        }
        countsChanged(namespace: session.namespace)
        if let delay = decision.requeueAfter { queue.add(key, after: delay) }
    }

    /// Writes the status through `sessions/status` and keeps the answer, so the next reconcile starts from it even
    /// before the watch brings it. A Session deleted meanwhile needs no status.
    func writeStatus(_ status: SessionStatus, of session: SessionObject) throws {
        guard case .object(let body) = status.json else { return }
        let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: session.namespace, name: session.name)
        let written: JSONObject
        do {
            written = try client.patchStatus(reference, status: body)
        } catch {
            if error.isNotFound { return }
            throw error
        }
        sessions.cache.remember(written)
        counters.withLock { $0.statusWrites += 1 }
    }

    /// What the machine needs, from the caches.
    func input(for session: SessionObject, object: JSONObject) throws -> SessionMachine.Input {
        var policy: PolicySnapshot?
        if let policyObject = policies.cache.all(namespace: session.namespace).first {
            do { policy = withTenantLedger(try PolicySnapshot(object: policyObject), object: policyObject) } catch {
                throw ReconcileError(description: "the namespace's \(error); fix it in the tenant repo")
            }
        }
        let jobName = session.status.workload.jobName ?? JobBuilder.jobName(for: session.name)
        let jobObject = jobs.cache.get("\(session.namespace)/\(jobName)")
        let job = jobObject.map(ObservedJob.init(object:))
        let jobUID = jobObject?["metadata"]?["uid"]?.stringValue
        let jobPods = pods.cache.all(namespace: session.namespace) { pod in
            let owners = pod["metadata"]?["ownerReferences"]?.arrayValue ?? []
            return owners.contains { $0["uid"]?.stringValue == jobUID && jobUID != nil }
        }
        let model = session.model(defaultModel: policy?.defaultModel ?? "")
        let pricing = configuration.pricing[model]
        var input = SessionMachine.Input(session: session, policy: policy, job: job, pod: ObservedPod.newest(of: jobPods),
                                         estimatedCost: estimate(object, pricing: pricing), pricing: pricing,
                                         environment: configuration.environment, now: configuration.clock())
        input.podRefusal = podRefusal(namespace: session.namespace, jobUID: jobUID, pods: jobPods)
        return input
    }

    /// The message of the job controller's newest `FailedCreate` Event on the Job (`Error creating: pods "…" is
    /// forbidden: exceeded quota: …`), unless one of its Pods was created since (a Pod created in the same second
    /// wins: the job controller retries a refused create a second later at the soonest).
    func podRefusal(namespace: String, jobUID: String?, pods: [JSONObject]) -> String? {
        guard let jobUID else { return nil }
        func time(_ event: JSONObject) -> Date {
            let text = event["lastTimestamp"]?.stringValue ?? event["eventTime"]?.stringValue ?? event["metadata"]?["creationTimestamp"]?.stringValue
            return text.flatMap(Timestamp.parse) ?? .distantPast
        }
        let refusals = podRefusals.cache.all(namespace: namespace) { $0["involvedObject"]?["uid"]?.stringValue == jobUID }
        guard let newest = refusals.max(by: { time($0) < time($1) }) else { return nil }
        let lastPod = pods.compactMap { $0["metadata"]?["creationTimestamp"]?.stringValue.flatMap(Timestamp.parse) }.max()
        if let lastPod, lastPod >= time(newest) { return nil }
        return newest["message"]?.stringValue
    }

    /// What admission reserved (the Session's `tenantry.dev/estimated-cost` annotation), else the model's price.
    func estimate(_ object: JSONObject, pricing: ModelOffer.Pricing?) -> Amount {
        if let text = object["metadata"]?["annotations"]?["tenantry.dev/estimated-cost"]?.stringValue, let amount = Amount(text) { return amount }
        switch pricing {
        case .perSession(let amount)?: return amount
        case .per1kTokens(let amount)?: return Amount(micros: amount.micros * configuration.estimatedTokensPerSession / 1000)
        case nil: return Amount(micros: 0)
        }
    }

    /// Carries out the actions in order. Returns the quota's message when the ResourceQuota refused a create
    /// (a permanent failure the caller turns into `createRefused`); throws what should be retried.
    func perform(_ actions: [SessionMachine.Action], session: SessionObject) throws -> String? {
        for action in actions {
            switch action {
            case .archiveHistory(let name, let entries):
                guard let archive = configuration.archive else {
                    configuration.log("session \(session.namespace)/\(session.name): no artifact store to archive \(entries.count) history entries into (\(name)); they are dropped from the status")
                    continue
                }
                let bytes = Data((JSON.array(entries.map(\.json)).prettyText + "\n").utf8)
                try archive(session.namespace, session.name, name, bytes)
            case .createConfigMap(let object):
                if let refusal = try create(object) { return refusal }
            case .createJob(let object):
                if let refusal = try create(object) { return refusal }
            case .deleteJob(let name):
                let reference = ObjectReference(apiVersion: "batch/v1", kind: "Job", namespace: session.namespace, name: name)
                if try client.delete(reference, propagationPolicy: .background) { counters.withLock { $0.jobsDeleted += 1 } }
            case .recordEvent(let event):
                do {
                    _ = try client.create(event.object(for: session, now: configuration.clock()))
                    counters.withLock { $0.events += 1 }
                } catch {
                    // An Event is information, not state: a refused one must not hold the Session back.
                    configuration.log("session \(session.namespace)/\(session.name): event \(event.reason) not recorded: \(error)")
                }
            case .settleBudget(let reservation, let month, let actual):
                try finishBudget(of: session, reservation: reservation, month: month, actual: actual)
            case .releaseBudget(let reservation, let month):
                try finishBudget(of: session, reservation: reservation, month: month, actual: nil)
            }
        }
        return nil
    }

    /// Creates an object whose name is deterministic: AlreadyExists is success. Returns the quota's message when
    /// the ResourceQuota refused it.
    func create(_ object: JSONObject) throws -> String? {
        let created: JSONObject
        do {
            created = try client.create(object)
        } catch {
            if error.isAlreadyExists { return nil }
            if Self.isQuotaRefusal(error) { return error.status?.message ?? "\(error)" }
            throw error
        }
        if created["kind"]?.stringValue == "Job" {
            jobs.cache.remember(created)
            counters.withLock { $0.jobsCreated += 1 }
        }
        return nil
    }

    static func isQuotaRefusal(_ error: KubeError) -> Bool {
        error.status?.code == 403 && (error.status?.message.contains("exceeded quota") ?? false)
    }

    /// Applies one ledger operation to the `NamespacePolicy.status` of `namespace`, a tenant's ledger namespace (`budget`,
    /// and `admission` when receivers share it) by compare-and-swap on the policy's resourceVersion: on 409 Conflict the
    /// policy is read again and the operation applied to what is there now. An operation that returns nil writes nothing.
    func updateLedger(namespace: String, _ operation: (SharedLedger, Date) -> SharedLedger?) throws {
        guard let cached = policies.cache.all(namespace: namespace).first, let name = cached["metadata"]?["name"]?.stringValue else {
            configuration.log("namespace \(namespace): no NamespacePolicy to settle the budget in")
            return
        }
        defer { ledgerChanged(namespace) }
        let reference = ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace, name: name)
        for _ in 0..<20 {
            guard let object = try client.get(reference) else { return }
            let policy = try PolicySnapshot(object: object)
            let now = configuration.clock()
            let before = try SharedLedger(status: object["status"], monthly: policy.budget.monthly, now: now, namespace: namespace)
            guard var ledger = operation(before, now) else { return }
            ledger.budget = ledger.budget.pruned { uid in settlementIsRecorded(uid) }
            var unchanged = before
            unchanged.budget = before.budget.rolled(to: now)
            if ledger == unchanged, object["status"]?["budget"] != nil, object["status"]?["budget"] != .null {
                counters.withLock { $0.settlementsSkipped += 1 }
                return
            }
            guard case .object(let patch) = ledger.statusPatch(resourceVersion: policy.resourceVersion ?? "") else { return }
            let written: JSONObject
            do {
                written = try client.mergePatchStatus(reference, patch: patch)
            } catch {
                guard error.status?.code == 409 else { throw error }
                counters.withLock { $0.budgetConflicts += 1 }
                continue
            }
            policies.cache.remember(written)
            counters.withLock { $0.budgetWrites += 1 }
            return
        }
        throw ReconcileError(description: "NamespacePolicy \(namespace)/\(name): the budget moved 20 times while settling; retrying")
    }

    /// Whether a settled uid can leave the ledger's list: its Session's final status is written (the machine never
    /// settles a final Session again) or the Session is gone. The Session may be in any namespace of the tenant.
    func settlementIsRecorded(_ uid: String) -> Bool {
        guard let session = sessions.cache.all(where: { $0["metadata"]?["uid"]?.stringValue == uid }).first else { return true }
        return Self.isFinal(session)
    }
}
