import Foundation
import Model

/// The batch/v1 Job controller of the local cluster: one Pod at a time from the template, status
/// from the Pods (see `JobStatusDecision`), deadlines, backoff and TTL on the controller loop's timers.
final class JobController: ClusterController {
    static let name = "job-controller"
    let index: OwnershipIndex
    let backoffBase: TimeInterval

    init(index: OwnershipIndex, backoffBase: TimeInterval) {
        self.index = index
        self.backoffBase = backoffBase
    }

    private func key(_ namespace: String, _ name: String) -> ControllerKey {
        ControllerKey(controller: Self.name, namespace: namespace, name: name)
    }

    func resync(_ objects: [(ResourceType, JSON)], loop: ControllerLoop) {
        for (type, object) in objects where type == .jobs || type == .pods {
            observe(ClusterChange(storageKey: type.storageKey, event: StoredEvent(resourceVersion: 0, type: "ADDED", object: object)), type: type, loop: loop)
        }
    }

    func observe(_ change: ClusterChange, type: ResourceType, loop: ControllerLoop) {
        let object = change.event.object
        if type == .jobs, change.event.type != "DELETED" {
            loop.enqueue(key(object.namespace, object.name))
        } else if type == .jobs {
            // Its Pods may still carry the tracking finalizer, which nobody would remove now.
            let uid = object.value(at: ["metadata", "uid"])?.stringValue ?? ""
            for place in index.dependents(of: uid) where place.resource == ResourceType.pods.storageKey {
                loop.enqueue(ControllerKey(controller: Self.name, resource: place.resource, namespace: place.namespace, name: place.name))
            }
        } else if type == .pods, change.event.type != "DELETED", object.finalizers.contains(JobStatusDecision.trackingFinalizer) {
            if let owner = Self.controllingJob(object), index.exists(uid: owner.uid) {
                loop.enqueue(key(object.namespace, owner.name))
            } else {
                loop.enqueue(ControllerKey(controller: Self.name, resource: ResourceType.pods.storageKey, namespace: object.namespace, name: object.name))
            }
        } else if type == .pods, let owner = Self.controllingJob(object) {
            loop.enqueue(key(object.namespace, owner.name))
        }
    }

    static func controllingJob(_ pod: JSON) -> OwnerReference? {
        OwnerReference.all(of: pod).first { $0.controller && $0.kind == "Job" && $0.group == "batch" }
    }

    /// A Pod whose Job is gone or that was orphaned loses the tracking finalizer, as in Kubernetes.
    private func releaseOrphan(_ key: ControllerKey, loop: ControllerLoop) {
        try? loop.write { transaction in
            guard let pod = try transaction.get(.pods, namespace: key.namespace, name: key.name),
                  pod.finalizers.contains(JobStatusDecision.trackingFinalizer) else { return }
            if let owner = Self.controllingJob(pod),
               try transaction.get(.jobs, namespace: pod.namespace, name: owner.name)?.value(at: ["metadata", "uid"])?.stringValue == owner.uid { return }
            var released = pod
            let rest = pod.finalizers.filter { $0 != JobStatusDecision.trackingFinalizer }
            released.setValue(rest.isEmpty ? nil : .strings(rest), at: ["metadata", "finalizers"])
            _ = try loop.api.commit(.pods, old: pod, released, transaction)
        }
    }

    func reconcile(_ key: ControllerKey, loop: ControllerLoop) {
        if key.resource == ResourceType.pods.storageKey { return releaseOrphan(key, loop: loop) }
        do {
            let requeue = try loop.write { transaction -> Date? in
                guard let job = try transaction.get(.jobs, namespace: key.namespace, name: key.name) else { return nil }
                let uid = job.value(at: ["metadata", "uid"])?.stringValue ?? ""
                var pods: [String: JSON] = [:]
                for place in index.dependents(of: uid) where place.resource == ResourceType.pods.storageKey && place.namespace == key.namespace {
                    guard let pod = try transaction.get(.pods, namespace: place.namespace, name: place.name),
                          OwnerReference.all(of: pod).contains(where: { $0.uid == uid && $0.controller }) else { continue }
                    pods[pod.name] = pod
                }
                let decision = JobStatusDecision(job: job, pods: pods.values.map(Self.view).sorted { $0.name < $1.name }, now: Date(), backoffBase: backoffBase)
                let plan = decision.plan()
                for name in plan.release {
                    guard let pod = pods[name] else { continue }
                    var released = pod
                    let rest = pod.finalizers.filter { $0 != JobStatusDecision.trackingFinalizer }
                    released.setValue(rest.isEmpty ? nil : .strings(rest), at: ["metadata", "finalizers"])
                    _ = try loop.api.commit(.pods, old: pod, released, transaction)
                }
                var updated = job
                updated.setValue(plan.status, at: ["status"])
                let stored = try loop.api.commitIfChanged(.jobs, old: job, updated, transaction)
                for name in plan.deletePods {
                    if let pod = try transaction.get(.pods, namespace: key.namespace, name: name) {
                        _ = try loop.api.deleteObject(.pods, pod, now: ControllerLoop.now, options: DeleteOptions(propagation: .background), transaction)
                    }
                }
                var quotaRetry: Date?
                if plan.createPod {
                    do { try createPod(for: stored, transaction, loop) } catch let refusal as APIError where refusal.code == 403 {
                        // The namespace's ResourceQuota is full. As kube's job controller: a Warning FailedCreate Event on the
                        // Job ("Error creating: " and the API server's refusal; a repeat counted on it, as the event recorder
                        // aggregates), and another try after a backoff that doubles from 1 s up to 60 s.
                        let count = try ClusterEvents.recordRepeated(transaction, regarding: stored, type: .jobs, eventType: "Warning", reason: "FailedCreate",
                                                                     message: "Error creating: \(refusal.message)", component: Self.name)
                        quotaRetry = Date().addingTimeInterval(min(60, Double(1 << min(count - 1, 6))))
                    }
                }
                if plan.deleteJob {
                    _ = try loop.api.deleteObject(.jobs, stored, now: ControllerLoop.now, options: DeleteOptions(propagation: .background), transaction)
                }
                return [plan.requeueAt, quotaRetry].compactMap { $0 }.min()
            }
            if let requeue { loop.enqueue(key, at: requeue) }
        } catch {
            // A failed write is retried on the Job's next change or timer.
        }
    }

    /// The Pod the template describes, owned by the Job, labelled as Kubernetes labels Job Pods.
    private func createPod(for job: JSON, _ transaction: StoreTransaction, _ loop: ControllerLoop) throws {
        let uid = job.value(at: ["metadata", "uid"])?.stringValue ?? ""
        let template = job.value(at: ["spec", "template"]) ?? [:]
        var labels = template.value(at: ["metadata", "labels"])?.objectValue ?? JSONObject()
        for (name, value) in JobDefaults.podLabels(jobName: job.name, uid: uid) { labels[name] = .string(value) }
        var name = ""
        repeat { name = Self.generatedName(job.name + "-") } while try transaction.get(.pods, namespace: job.namespace, name: name) != nil
        var metadata: JSONObject = ["name": .string(name), "generateName": .string(job.name + "-"), "namespace": .string(job.namespace),
                                    "labels": .object(labels)]
        if let annotations = template.value(at: ["metadata", "annotations"]) { metadata["annotations"] = annotations }
        metadata["ownerReferences"] = [["apiVersion": "batch/v1", "kind": "Job", "name": .string(job.name), "uid": .string(uid),
                                        "controller": true, "blockOwnerDeletion": true]]
        metadata["finalizers"] = [.string(JobStatusDecision.trackingFinalizer)]
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": template["spec"] ?? [:],
                         "status": ["phase": "Pending", "qosClass": "BestEffort"]]
        // Admitted as a client's create would be (uid, defaults), keeping the initial status.
        var admission = ObjectAdmission(type: .pods, scope: .main(hasStatusSubresource: false), now: ControllerLoop.now, fieldValidation: .ignore)
        let admitted = try admission.admit(pod, old: nil)
        _ = try loop.api.commit(.pods, old: nil, admitted, transaction)
    }

    /// `generateName` completed as kube-apiserver completes it: five characters that spell no words.
    static func generatedName(_ prefix: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return prefix + String((0..<5).map { _ in alphabet.randomElement()! })
    }

    /// The parts of a Pod the decision reads.
    static func view(_ pod: JSON) -> JobPod {
        let statuses = (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []) + (pod.value(at: ["status", "initContainerStatuses"])?.arrayValue ?? [])
        var exitCodes: [(container: String, code: Int)] = []
        var finished: [Date] = []
        for status in statuses {
            if let terminated = status.value(at: ["state", "terminated"]) {
                if case .int(let code)? = terminated["exitCode"] { exitCodes.append((status["name"]?.stringValue ?? "", code)) }
                if let date = terminated["finishedAt"]?.stringValue.flatMap(JobStatusDecision.date) { finished.append(date) }
            }
        }
        let conditions = (pod.value(at: ["status", "conditions"])?.arrayValue ?? []).filter { $0["status"]?.stringValue == "True" }.compactMap { $0["type"]?.stringValue }
        let restarts = (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []).reduce(0) { total, status in
            if case .int(let count)? = status["restartCount"] { return total + count }
            return total
        }
        return JobPod(name: pod.name, namespace: pod.namespace, phase: pod.value(at: ["status", "phase"])?.stringValue ?? "Pending",
                      deleting: pod.isDeleting, tracked: pod.finalizers.contains(JobStatusDecision.trackingFinalizer),
                      finishedAt: finished.max(), ready: conditions.contains("Ready"), restarts: restarts, exitCodes: exitCodes,
                      trueConditions: conditions)
    }
}

/// Defaults the API server gives Jobs and Pods at creation, as Kubernetes does, so kubectl finds a
/// Job's Pods (`spec.selector`) and the node knows each Pod's grace period and restart policy.
enum JobDefaults {
    static func podLabels(jobName: String, uid: String) -> [(String, String)] {
        [("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", jobName), ("controller-uid", uid), ("job-name", jobName)]
    }

    static func admitJob(_ job: JSON) throws(APIError) -> JSON {
        var job = job
        let uid = job.value(at: ["metadata", "uid"])?.stringValue ?? ""
        let restartPolicy = job.value(at: ["spec", "template", "spec", "restartPolicy"])?.stringValue
        guard restartPolicy == "Never" || restartPolicy == "OnFailure" else {
            let shown = restartPolicy.map { "Unsupported value: \"\($0)\": supported values: \"OnFailure\", \"Never\"" } ?? "Required value: valid values: \"OnFailure\", \"Never\""
            throw APIError.invalid(.jobs, job.name, [APIError.Cause(reason: restartPolicy == nil ? "FieldValueRequired" : "FieldValueNotSupported",
                                                                   message: shown, field: "spec.template.spec.restartPolicy")])
        }
        if job.value(at: ["spec", "manualSelector"]) != .bool(true) {
            job.setValue(["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]], at: ["spec", "selector"])
            for (name, value) in podLabels(jobName: job.name, uid: uid) {
                job.setValue(.string(value), at: ["spec", "template", "metadata", "labels", name])
            }
        }
        for (path, value) in [(["parallelism"], JSON.int(1)), (["completions"], .int(1)), (["backoffLimit"], .int(6)),
                              (["completionMode"], "NonIndexed"), (["suspend"], .bool(false)),
                              (["podReplacementPolicy"], job.value(at: ["spec", "podFailurePolicy"]) == nil ? "TerminatingOrFailed" : "Failed")]
        where job.value(at: ["spec"] + path) == nil {
            job.setValue(value, at: ["spec"] + path)
        }
        if let podSpec = job.value(at: ["spec", "template", "spec"]) {
            try validateNames(podSpec, type: .jobs, name: job.name, path: "spec.template.spec")
            job.setValue(defaultPodSpec(podSpec), at: ["spec", "template", "spec"])
        }
        return job
    }

    static func admitPod(_ pod: JSON) throws(APIError) -> JSON {
        var pod = pod
        try validateNames(pod["spec"] ?? [:], type: .pods, name: pod.name, path: "spec")
        pod.setValue(defaultPodSpec(pod["spec"] ?? [:]), at: ["spec"])
        if pod.value(at: ["status", "phase"]) == nil { pod.setValue("Pending", at: ["status", "phase"]) }
        return pod
    }

    /// Container and volume names become file names on the node: DNS-1123 labels, as Kubernetes requires.
    private static func validateNames(_ spec: JSON, type: ResourceType, name: String, path: String) throws(APIError) {
        for list in ["initContainers", "containers", "volumes"] {
            for (index, item) in (spec[list]?.arrayValue ?? []).enumerated() {
                let value = item["name"]?.stringValue ?? ""
                let characters = Array(value.utf8)
                let valid = !characters.isEmpty && characters.count <= 63
                    && characters.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
                    && characters.first != 0x2D && characters.last != 0x2D
                guard valid else {
                    throw APIError.invalid(type, name, [APIError.Cause(reason: "FieldValueInvalid",
                        message: "Invalid value: \"\(value)\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                        field: "\(path).\(list)[\(index)].name")])
                }
            }
        }
    }

    private static func defaultPodSpec(_ spec: JSON) -> JSON {
        var spec = spec
        for (key, value) in [("restartPolicy", JSON.string("Always")), ("terminationGracePeriodSeconds", .int(30)), ("dnsPolicy", "ClusterFirst"),
                             ("schedulerName", "default-scheduler"), ("serviceAccountName", "default")]
        where spec[key] == nil {
            spec.setValue(value, at: [key])
        }
        for list in ["initContainers", "containers"] {
            guard let containers = spec[list]?.arrayValue else { continue }
            spec.setValue(.array(containers.map { container in
                var container = container
                if container["terminationMessagePath"] == nil { container.setValue("/dev/termination-log", at: ["terminationMessagePath"]) }
                if container["terminationMessagePolicy"] == nil { container.setValue("File", at: ["terminationMessagePolicy"]) }
                return container
            }), at: [list])
        }
        return spec
    }
}
