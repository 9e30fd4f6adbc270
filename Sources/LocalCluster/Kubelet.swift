import Foundation
import Model

/// The local cluster's one node, `local-node`: binds every Pod to itself (up to `maxPods` at once;
/// the rest stay Pending as Unschedulable, "Too many pods"), runs them as host processes through
/// `PodRuntime`, writes their status, stops them on deletion (SIGTERM, the grace period, SIGKILL of
/// each process group), and on start marks Pods a previous run of the cluster left Running as Failed
/// (`NodeLost`), after killing any of their processes that outlived it.
/// Images are not pulled and nothing is isolated: a container is its command, run on this host.
/// Unchecked Sendable: `runtimes` and `stopping` are guarded by `lock`; the rest is loop-thread only.
final class Kubelet: ClusterController, @unchecked Sendable {
    static let name = "kubelet"
    static let nodeName = "local-node"
    static let serviceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    let api: APIServer
    let files: PodFiles
    let maxPods: Int
    private let context: PodRuntime.Context
    private let lock = NSLock()
    private var runtimes: [String: PodRuntime] = [:]
    private var stopping = false
    /// Pods bound here and not yet terminal, by uid (from the change events).
    private var occupied: Set<String> = []
    /// Pods waiting for a free slot, oldest first.
    private var waiting: [ObjectPlace] = []

    init(api: APIServer, files: PodFiles, maxPods: Int, context: PodRuntime.Context) {
        self.api = api
        self.files = files
        self.maxPods = maxPods
        self.context = context
    }

    /// The grace period a Pod being deleted gets: the request's, else the spec's (default 30 s); 0 for
    /// a Pod that never ran here or has finished, which goes at once, as kube-apiserver decides.
    static func gracePeriod(_ pod: JSON, requested: Int?) -> Int {
        let phase = pod.value(at: ["status", "phase"])?.stringValue
        if (pod.value(at: ["spec", "nodeName"])?.stringValue ?? "").isEmpty || phase == "Succeeded" || phase == "Failed" { return 0 }
        if let requested { return requested }
        if case .int(let seconds)? = pod.value(at: ["spec", "terminationGracePeriodSeconds"]) { return max(0, seconds) }
        return 30
    }

    private func key(_ namespace: String, _ name: String) -> ControllerKey {
        ControllerKey(controller: Self.name, namespace: namespace, name: name)
    }

    // MARK: - The Node object

    static func registerNode(_ store: Store, maxPods: Int) throws {
        let now = WriteRequest.timestamp(Date())
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = ProcessInfo.processInfo.physicalMemory / 1024
        try store.write { transaction in
            let old = try transaction.get(.nodes, namespace: "", name: nodeName)
            let resources: JSON = ["cpu": .string(String(cores)), "memory": .string("\(memory)Ki"), "pods": .string(String(maxPods)),
                                   "ephemeral-storage": "0"]
            let ready: JSON = ["type": "Ready", "status": "True", "lastHeartbeatTime": .string(now),
                               "lastTransitionTime": .string(now), "reason": "KubeletReady",
                               "message": "kubelet is posting ready status (local node: Pods run as host processes, no isolation)"]
            var node: JSON = ["apiVersion": "v1", "kind": "Node",
                              "metadata": ["name": .string(nodeName), "uid": old?.value(at: ["metadata", "uid"]) ?? .string(UUID().uuidString.lowercased()),
                                           "creationTimestamp": old?.value(at: ["metadata", "creationTimestamp"]) ?? .string(now), "generation": 1,
                                           "labels": ["kubernetes.io/hostname": .string(nodeName), "kubernetes.io/os": "linux",
                                                      "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/local": ""]],
                              "spec": [:],
                              "status": ["capacity": resources, "allocatable": resources, "conditions": [ready],
                                         "addresses": [["type": "InternalIP", "address": "127.0.0.1"], ["type": "Hostname", "address": .string(nodeName)]],
                                         "nodeInfo": ["operatingSystem": "linux", "architecture": "amd64", "kubeletVersion": "v1.32.0-tenantry",
                                                      "kubeProxyVersion": "", "osImage": "host (no isolation)",
                                                      "containerRuntimeVersion": "tenantry-host://1 (host processes, images not pulled)",
                                                      "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": ""]]]
            node.setValue(.string(String(try transaction.nextResourceVersion())), at: ["metadata", "resourceVersion"])
            try transaction.put(.nodes, node, previous: old)
        }
    }

    // MARK: - Controller

    func resync(_ objects: [(ResourceType, JSON)], loop: ControllerLoop) {
        let pods = objects.filter { $0.0 == .pods }.map(\.1)
        if runtimes.isEmpty { killLeftovers(keeping: Set(pods.compactMap { $0.value(at: ["metadata", "uid"])?.stringValue })) }
        occupied = []
        waiting = []
        for pod in pods {
            if isBoundHere(pod), !isTerminal(pod), let uid = pod.value(at: ["metadata", "uid"])?.stringValue { occupied.insert(uid) }
            loop.enqueue(key(pod.namespace, pod.name))
        }
    }

    func observe(_ change: ClusterChange, type: ResourceType, loop: ControllerLoop) {
        guard type == .pods else { return }
        let pod = change.event.object
        let uid = pod.value(at: ["metadata", "uid"])?.stringValue ?? ""
        if change.event.type == "DELETED" {
            let runtime = lock.withLock { runtimes[uid] }
            runtime?.terminate(gracePeriod: 0)
            if runtime == nil { try? FileManager.default.removeItem(atPath: files.directory(uid: uid)) }
            waiting.removeAll { $0.namespace == pod.namespace && $0.name == pod.name }
            release(uid, loop)
            return
        }
        if isBoundHere(pod), isTerminal(pod) { release(uid, loop) }
        loop.enqueue(key(pod.namespace, pod.name))
    }

    /// A slot came free: the oldest waiting Pods get another look.
    private func release(_ uid: String, _ loop: ControllerLoop) {
        guard occupied.remove(uid) != nil else { return }
        for place in waiting.prefix(max(0, maxPods - occupied.count)) { loop.enqueue(key(place.namespace, place.name)) }
    }

    func reconcile(_ key: ControllerKey, loop: ControllerLoop) {
        guard let pod = try? loop.read({ try $0.get(.pods, namespace: key.namespace, name: key.name) }) else { return }
        let uid = pod.value(at: ["metadata", "uid"])?.stringValue ?? ""
        let runtime = lock.withLock { runtimes[uid] }
        let nodeName = pod.value(at: ["spec", "nodeName"])?.stringValue ?? ""
        if let runtime {
            if pod.isDeleting, case .int(let grace)? = pod.value(at: ["metadata", "deletionGracePeriodSeconds"]) {
                runtime.terminate(gracePeriod: grace)
            }
            return
        }
        if nodeName.isEmpty {
            guard !isTerminal(pod) else { return }
            // As PodGC does: a Pod deleted before it was scheduled ends Failed, so its finalizers can be released.
            if pod.isDeleting { return markFailedUnscheduled(pod, loop) }
            if occupied.count < maxPods {
                bindAndStart(pod, loop)
            } else {
                if !waiting.contains(where: { $0.namespace == pod.namespace && $0.name == pod.name }) {
                    waiting.append(ObjectPlace(resource: ResourceType.pods.storageKey, namespace: pod.namespace, name: pod.name))
                }
                markUnschedulable(pod, loop)
            }
            return
        }
        guard nodeName == Self.nodeName else { return }
        if isTerminal(pod) {
            if pod.awaitsGracefulTermination { finishDeletion(pod, loop) }
            return
        }
        if pod.value(at: ["status", "startTime"]) != nil {
            // Started by an earlier run of the cluster: its processes are gone.
            markLost(pod, loop)
        } else if pod.isDeleting {
            finishDeletion(pod, loop)
        } else {
            bindAndStart(pod, loop)
        }
    }

    private func isBoundHere(_ pod: JSON) -> Bool { pod.value(at: ["spec", "nodeName"])?.stringValue == Self.nodeName }

    private func isTerminal(_ pod: JSON) -> Bool {
        let phase = pod.value(at: ["status", "phase"])?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    // MARK: - Writes

    private func bindAndStart(_ pod: JSON, _ loop: ControllerLoop) {
        let uid = pod.value(at: ["metadata", "uid"])?.stringValue ?? ""
        let runtime = PodRuntime(pod: pod, context: context) { [weak self] runtime, run, final in
            self?.report(runtime, run, final: final)
        }
        lock.withLock { runtimes[uid] = runtime }
        occupied.insert(uid)
        waiting.removeAll { $0.namespace == pod.namespace && $0.name == pod.name }
        do {
            try loop.write { transaction in
                guard let current = try transaction.get(.pods, namespace: pod.namespace, name: pod.name),
                      current.value(at: ["metadata", "uid"])?.stringValue == uid else { return }
                var bound = current
                bound.setValue(.string(Self.nodeName), at: ["spec", "nodeName"])
                let initial = runtime.snapshot
                bound.setValue(PodStatusBuilder.status(initial, restartPolicy: "", previous: current["status"], now: Date()), at: ["status"])
                _ = try api.commit(.pods, old: current, bound, transaction)
            }
        } catch {
            lock.withLock { runtimes[uid] = nil }
            occupied.remove(uid)
            return
        }
        runtime.start()
    }

    private func markUnschedulable(_ pod: JSON, _ loop: ControllerLoop) {
        let message = "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
        let scheduled = (pod.value(at: ["status", "conditions"])?.arrayValue ?? []).first { $0["type"]?.stringValue == "PodScheduled" }
        guard scheduled?["reason"]?.stringValue != "Unschedulable" else { return }
        try? loop.write { transaction in
            guard let current = try transaction.get(.pods, namespace: pod.namespace, name: pod.name) else { return }
            var updated = current
            updated.setValue(.array([["type": "PodScheduled", "status": "False", "lastProbeTime": .null,
                                      "lastTransitionTime": .string(ControllerLoop.now), "reason": "Unschedulable", "message": .string(message)]]),
                             at: ["status", "conditions"])
            updated.setValue("Pending", at: ["status", "phase"])
            _ = try api.commit(.pods, old: current, updated, transaction)
        }
    }

    private func markFailedUnscheduled(_ pod: JSON, _ loop: ControllerLoop) {
        waiting.removeAll { $0.namespace == pod.namespace && $0.name == pod.name }
        try? loop.write { transaction in
            guard let current = try transaction.get(.pods, namespace: pod.namespace, name: pod.name) else { return }
            var failed = current
            failed.setValue("Failed", at: ["status", "phase"])
            _ = try api.commit(.pods, old: current, failed, transaction)
        }
    }

    private func markLost(_ pod: JSON, _ loop: ControllerLoop) {
        try? loop.write { transaction in
            guard let current = try transaction.get(.pods, namespace: pod.namespace, name: pod.name) else { return }
            var lost = current
            lost.setValue(PodStatusBuilder.nodeLost(current, now: Date()), at: ["status"])
            if lost.awaitsGracefulTermination { lost.setValue(.int(0), at: ["metadata", "deletionGracePeriodSeconds"]) }
            _ = try api.commit(.pods, old: current, lost, transaction)
        }
    }

    /// The processes are gone: the Pod leaves the store (or waits there for its finalizers).
    private func finishDeletion(_ pod: JSON, _ loop: ControllerLoop) {
        try? loop.write { transaction in
            guard let current = try transaction.get(.pods, namespace: pod.namespace, name: pod.name), current.awaitsGracefulTermination else { return }
            var done = current
            done.setValue(.int(0), at: ["metadata", "deletionGracePeriodSeconds"])
            _ = try api.commit(.pods, old: current, done, transaction)
        }
    }

    /// A runtime's new state, written as the Pod's status; the final one also ends a pending deletion.
    private func report(_ runtime: PodRuntime, _ run: PodRun, final: Bool) {
        let pod = runtime.pod
        if !lock.withLock({ stopping }) { writeStatus(runtime, run, final: final) }
        guard final else { return }
        lock.withLock { runtimes[runtime.uid] = nil }
        let current: JSON? = (try? api.store.read { try $0.get(.pods, namespace: pod.namespace, name: pod.name) }) ?? nil
        if current?.value(at: ["metadata", "uid"])?.stringValue != runtime.uid {
            try? FileManager.default.removeItem(atPath: files.directory(uid: runtime.uid))
        }
    }

    private func writeStatus(_ runtime: PodRuntime, _ run: PodRun, final: Bool) {
        let pod = runtime.pod
        try? api.store.write { transaction in
            guard let current = try transaction.get(.pods, namespace: pod.namespace, name: pod.name),
                  current.value(at: ["metadata", "uid"])?.stringValue == runtime.uid else { return }
            var updated = current
            let restartPolicy = current.value(at: ["spec", "restartPolicy"])?.stringValue ?? "Always"
            updated.setValue(PodStatusBuilder.status(run, restartPolicy: restartPolicy, previous: current["status"], now: Date()), at: ["status"])
            if final, updated.awaitsGracefulTermination { updated.setValue(.int(0), at: ["metadata", "deletionGracePeriodSeconds"]) }
            _ = try api.commitIfChanged(.pods, old: current, updated, transaction)
        }
    }

    // MARK: - Start and stop

    /// Kills the process groups an earlier run of the cluster recorded (when the pid still names the
    /// same process), and removes the files of Pods that are gone.
    private func killLeftovers(keeping live: Set<String>) {
        let manager = FileManager.default
        for uid in (try? manager.contentsOfDirectory(atPath: files.root)) ?? [] {
            let records = files.processes(uid: uid)
            for name in (try? manager.contentsOfDirectory(atPath: records)) ?? [] {
                let path = records + "/" + name
                let fields = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: " ").map(String.init)
                if fields.count == 2, let pid = Int32(fields[0]), pid > 1, PodProcess.startTime(of: pid) == fields[1] {
                    PodProcess.signalGroup(pid, SIGKILL)
                }
                try? manager.removeItem(atPath: path)
            }
            if !live.contains(uid) { try? manager.removeItem(atPath: files.directory(uid: uid)) }
        }
    }

    /// Kills every Pod's processes at once (their status is left as it was: the next start marks them NodeLost).
    func stop() {
        let all = lock.withLock { () -> [PodRuntime] in
            stopping = true
            return Array(runtimes.values)
        }
        for runtime in all { runtime.terminate(gracePeriod: 0) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !lock.withLock({ runtimes.isEmpty }) {
            // Each runtime removes itself once its processes are reaped.
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}
