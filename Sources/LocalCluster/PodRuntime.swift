import Foundation
import Model

/// One Pod running on the local node: its files, then its init containers one after another, then
/// its containers side by side, each restarted as `restartPolicy` says, until all are done or the Pod
/// is deleted. Reports every change of state through `report`; never touches the store itself.
/// Unchecked Sendable: `run`, `processes`, `stopping` and `killAt` are guarded by `condition`.
final class PodRuntime: @unchecked Sendable {
    struct Context: Sendable {
        var files: PodFiles
        var apiPort: UInt16
        var apiScheme: String
        var certificatePEM: String?
        var tokenSource: LocalClusterServer.ServiceAccountTokenSource?
        /// Reads a ConfigMap's or Secret's data in the Pod's namespace (Secret values decoded).
        var lookup: @Sendable (_ kind: String, _ namespace: String, _ name: String) throws -> [String: String]?
        var crashLoopBase: TimeInterval
    }

    let pod: JSON
    let uid: String
    private let context: Context
    private let report: @Sendable (PodRuntime, PodRun, _ final: Bool) -> Void
    private let condition = NSCondition()
    private var run: PodRun
    private var processes: [String: pid_t] = [:]
    private var stopping = false
    private var killAt: Date?
    private let reports = DispatchQueue(label: "local-node.pod-status")
    private let restartPolicy: String

    init(pod: JSON, context: Context, report: @escaping @Sendable (PodRuntime, PodRun, Bool) -> Void) {
        self.pod = pod
        self.uid = pod.value(at: ["metadata", "uid"])?.stringValue ?? ""
        self.context = context
        self.report = report
        restartPolicy = pod.value(at: ["spec", "restartPolicy"])?.stringValue ?? "Always"
        func records(_ list: String) -> [ContainerRecord] {
            (pod.value(at: ["spec", list])?.arrayValue ?? []).map {
                ContainerRecord(name: $0["name"]?.stringValue ?? "", image: $0["image"]?.stringValue ?? "",
                                state: .waiting(reason: list == "initContainers" ? "PodInitializing" : "ContainerCreating", message: nil))
            }
        }
        run = PodRun(initContainers: records("initContainers"), containers: records("containers"), startTime: Date())
    }

    var root: String { context.files.containerRoot(uid: uid) }

    var snapshot: PodRun { condition.withLock { run } }

    func start() {
        let thread = Thread { [self] in main() }
        thread.name = "pod \(pod.namespace)/\(pod.name)"
        thread.start()
    }

    /// Stops the Pod: SIGTERM to every container's process group now, SIGKILL once the grace period ends.
    func terminate(gracePeriod: Int) {
        let deadline = Date().addingTimeInterval(TimeInterval(max(0, gracePeriod)))
        let (groups, first) = condition.withLock { () -> ([pid_t], Bool) in
            let first = !stopping
            stopping = true
            if let killAt, killAt <= deadline { return ([], first) }
            killAt = deadline
            condition.broadcast()
            return (Array(processes.values), first)
        }
        guard !groups.isEmpty || first else { return }
        for group in groups { PodProcess.signalGroup(group, gracePeriod == 0 ? SIGKILL : SIGTERM) }
        if gracePeriod > 0 {
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(gracePeriod)) { [self] in
                let due = condition.withLock { killAt.map { $0 <= Date().addingTimeInterval(0.05) } ?? false ? Array(processes.values) : [] }
                for group in due { PodProcess.signalGroup(group, SIGKILL) }
            }
        }
    }

    private var isStopping: Bool { condition.withLock { stopping } }

    /// The latest state not yet reported; states that follow each other quickly are written once.
    private var unreported: PodRun?

    private func update(_ change: (inout PodRun) -> Void) {
        let schedule = condition.withLock { () -> Bool in
            change(&run)
            defer { unreported = run }
            return unreported == nil
        }
        guard schedule else { return }
        reports.async { [self] in
            guard let snapshot = condition.withLock({ () -> PodRun? in defer { unreported = nil }; return unreported }) else { return }
            report(self, snapshot, false)
        }
    }

    private func main() {
        defer {
            let snapshot = condition.withLock { () -> PodRun in
                run.finished = true
                unreported = nil
                return run
            }
            reports.sync { report(self, snapshot, true) }
        }
        let prepared: [String: String]
        do {
            prepared = try prepare()
        } catch {
            update { $0.reason = "CreateContainerConfigError"; $0.message = "\(error)" }
            for index in run.containers.indices {
                update { $0.containers[index].state = .waiting(reason: "CreateContainerConfigError", message: "\(error)") }
            }
            return
        }
        let initSpecs = pod.value(at: ["spec", "initContainers"])?.arrayValue ?? []
        for (index, spec) in initSpecs.enumerated() {
            if !runContainer(spec, index: index, isInit: true, volumes: prepared) { return }
        }
        let specs = pod.value(at: ["spec", "containers"])?.arrayValue ?? []
        let group = DispatchGroup()
        for (index, spec) in specs.enumerated() {
            group.enter()
            let thread = Thread { [self] in
                _ = runContainer(spec, index: index, isInit: false, volumes: prepared)
                group.leave()
            }
            thread.start()
        }
        group.wait()
    }

    // MARK: - One container

    private func record(_ isInit: Bool, _ index: Int) -> ContainerRecord {
        condition.withLock { isInit ? run.initContainers[index] : run.containers[index] }
    }

    private func set(_ isInit: Bool, _ index: Int, _ change: @escaping (inout ContainerRecord) -> Void) {
        update { run in
            if isInit { change(&run.initContainers[index]) } else { change(&run.containers[index]) }
        }
    }

    /// Runs one container until it is done for good; false when the Pod cannot go on (an init
    /// container failed for good, or the Pod is stopping).
    private func runContainer(_ spec: JSON, index: Int, isInit: Bool, volumes: [String: String]) -> Bool {
        while true {
            if isStopping { return false }
            let state = runOnce(spec, index: index, isInit: isInit, volumes: volumes)
            let code = state.exitCode
            set(isInit, index) { $0.state = state; $0.pid = nil }
            guard let code else {
                // The container could not be created at all: the Pod fails, and so do its siblings.
                terminate(gracePeriod: 0)
                return false
            }
            let restart = !isStopping && (restartPolicy == "Always" && !isInit || (restartPolicy != "Never" && code != 0))
            if !restart { return code == 0 }
            let restarts = record(isInit, index).restartCount
            let delay = min(context.crashLoopBase * pow(2, Double(restarts)), 300)
            set(isInit, index) { record in
                record.lastState = state
                record.restartCount += 1
                record.state = .waiting(reason: "CrashLoopBackOff",
                                        message: "back-off \(Int(delay))s restarting failed container=\(record.name) pod=\(self.pod.name)_\(self.pod.namespace)(\(self.uid))")
            }
            let until = Date().addingTimeInterval(delay)
            condition.withLock {
                while !stopping, Date() < until { _ = condition.wait(until: until) }
            }
        }
    }

    /// Starts the container's process and waits for it; the terminated state, or a waiting one when it never started.
    private func runOnce(_ spec: JSON, index: Int, isInit: Bool, volumes: [String: String]) -> ContainerState {
        let name = spec["name"]?.stringValue ?? ""
        let started = Date()
        let variables: [(String, String)]
        do {
            variables = try PodEnvironment.variables(container: spec, pod: pod, base: baseEnvironment()) { kind, objectName in
                try self.context.lookup(kind, self.pod.namespace, objectName)
            }
        } catch {
            return .waiting(reason: "CreateContainerConfigError", message: "\(error)")
        }
        let lookup = Dictionary(variables, uniquingKeysWith: { $1 })
        guard let commandLine = PodEnvironment.commandLine(spec, lookup) else {
            let image = spec["image"]?.stringValue ?? ""
            return .waiting(reason: "ErrImagePull",
                            message: "the local cluster does not pull images, so the entrypoint of image \"\(image)\" is unknown: set command on container \"\(name)\" (kubectl create job NAME --image=\(image) -- COMMAND ARGS…); the command runs on this host with no isolation")
        }
        guard let executable = PodProcess.resolve(commandLine[0], path: lookup["PATH"] ?? PodEnvironment.defaultPath) else {
            return .terminated(exitCode: 128, reason: "StartError",
                               message: "exec: \"\(commandLine[0])\": executable file not found in $PATH", startedAt: started, finishedAt: Date())
        }
        let workingDirectory = root + (spec["workingDir"]?.stringValue ?? "")
        let messagePath = root + (spec["terminationMessagePath"]?.stringValue ?? "/dev/termination-log")
        do {
            try FileManager.default.createDirectory(atPath: workingDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.createDirectory(atPath: (messagePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Self.write(Data(), to: messagePath, mode: 0o600)
        } catch {
            return .terminated(exitCode: 128, reason: "StartError", message: "\(error)", startedAt: started, finishedAt: Date())
        }
        let restart = record(isInit, index).restartCount
        let writer: LogWriter
        let process: PodProcess
        do {
            writer = try LogWriter(path: context.files.log(uid: uid, container: name, restart: restart))
            let launch = PodProcess.Launch(executable: executable, arguments: Array(commandLine.dropFirst()),
                                           environment: variables.map { "\($0.0)=\($0.1)" }, workingDirectory: workingDirectory)
            // Registered under the lock so a terminate between spawn and record cannot miss it.
            process = try condition.withLock { () throws -> PodProcess in
                if stopping { throw SpawnError(message: "the Pod is being deleted") }
                let process = try PodProcess.spawn(launch)
                processes[name] = process.pid
                return process
            }
        } catch {
            return .terminated(exitCode: 128, reason: "StartError", message: "\(error)", startedAt: started, finishedAt: Date())
        }
        let recordPath = context.files.processes(uid: uid) + "/\(name).pid"
        try? FileManager.default.createDirectory(atPath: context.files.processes(uid: uid), withIntermediateDirectories: true)
        try? "\(process.pid) \(PodProcess.startTime(of: process.pid) ?? "")".write(toFile: recordPath, atomically: true, encoding: .utf8)
        let runningSince = Date()
        set(isInit, index) { $0.state = .running(startedAt: runningSince); $0.pid = process.pid }

        let readers = DispatchGroup()
        for (descriptor, stream) in [(process.stdout, "stdout"), (process.stderr, "stderr")] {
            readers.enter()
            Thread { writer.drain(descriptor, stream: stream); readers.leave() }.start()
        }
        let exit = process.waitForExit()
        // Nothing the container started outlives it.
        condition.withLock {
            PodProcess.signalGroup(process.pid, SIGKILL)
            processes[name] = nil
        }
        readers.wait()
        writer.finish()
        try? FileManager.default.removeItem(atPath: recordPath)
        let code = exit.exitCode
        var message = Self.terminationMessage(at: messagePath)
        if message.isEmpty, code != 0, spec["terminationMessagePolicy"]?.stringValue == "FallbackToLogsOnError" {
            message = Self.logTail(writer.path)
        }
        return .terminated(exitCode: code, reason: code == 0 ? "Completed" : "Error", message: message.isEmpty ? nil : message,
                           startedAt: runningSince, finishedAt: Date())
    }

    /// What the container wrote to its termination message file, at most 4 KiB as Kubernetes keeps.
    static func terminationMessage(at path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4096)) ?? Data()
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    /// The last 80 lines (at most 2 KiB) of the log, for FallbackToLogsOnError.
    static func logTail(_ path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let rendered = String(decoding: LogQuery(tailLines: 80).render(text[...]), as: UTF8.self)
        return String(decoding: Array(rendered.utf8.suffix(2048)), as: UTF8.self)
    }

    // MARK: - Files

    private func baseEnvironment() -> [(String, String)] {
        var base: [(String, String)] = [("PATH", PodEnvironment.defaultPath), ("HOSTNAME", pod.name), ("HOME", root),
                                        ("KUBERNETES_SERVICE_HOST", "127.0.0.1"), ("KUBERNETES_SERVICE_PORT", String(context.apiPort)),
                                        ("TENANTRY_POD_ROOT", root)]
        if context.apiScheme == "https" { base.append(("KUBERNETES_SERVICE_PORT_HTTPS", String(context.apiPort))) }
        if pod.value(at: ["spec", "automountServiceAccountToken"]) != .bool(false) {
            base.append(("TENANTRY_SERVICEACCOUNT_DIR", root + Kubelet.serviceAccountPath))
        }
        return base
    }

    /// Creates the Pod's directories, volumes and ServiceAccount files; returns each volume's directory.
    private func prepare() throws -> [String: String] {
        let manager = FileManager.default
        let directory = context.files.directory(uid: uid)
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if pod.value(at: ["spec", "automountServiceAccountToken"]) != .bool(false) { try writeServiceAccount() }
        var volumes: [String: String] = [:]
        for volume in pod.value(at: ["spec", "volumes"])?.arrayValue ?? [] {
            let name = volume["name"]?.stringValue ?? ""
            let path = directory + "/volumes/" + name
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            volumes[name] = path
            if volume["emptyDir"] != nil { continue }
            if let projected = volume["projected"] {
                try writeProjectedTokens(projected, volume: name, into: path)
                continue
            }
            let sources: [(String, String, JSON)] = [("ConfigMap", "name", volume["configMap"] ?? .null), ("Secret", "secretName", volume["secret"] ?? .null)]
            guard let (kind, field, source) = sources.first(where: { $0.2 != .null }) else {
                throw PodEnvironment.ConfigError(message: "volume \"\(name)\": the local cluster supports emptyDir, configMap, secret and projected serviceAccountToken volumes")
            }
            let objectName = source[field]?.stringValue ?? ""
            guard let data = try context.lookup(kind, pod.namespace, objectName) else {
                if source["optional"] == .bool(true) { continue }
                throw PodEnvironment.ConfigError(message: "\(kind.lowercased()) \"\(objectName)\" not found (volume \"\(name)\")")
            }
            var files = data.keys.sorted().map { ($0, $0) }
            if let items = source["items"]?.arrayValue {
                files = try items.map { item in
                    let key = item["key"]?.stringValue ?? ""
                    guard data[key] != nil else {
                        throw PodEnvironment.ConfigError(message: "configmap references non-existent config key: \(key)")
                    }
                    return (key, item["path"]?.stringValue ?? key)
                }
            }
            for (key, relative) in files {
                guard !relative.split(separator: "/").contains("..") else {
                    throw PodEnvironment.ConfigError(message: "volume \"\(name)\": path \"\(relative)\" must not contain '..'")
                }
                let file = path + "/" + relative
                try manager.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Self.write(Data(data[key]!.utf8), to: file, mode: kind == "Secret" ? 0o600 : 0o644)
            }
        }
        for list in ["initContainers", "containers"] {
            for container in pod.value(at: ["spec", list])?.arrayValue ?? [] {
                for mount in container["volumeMounts"]?.arrayValue ?? [] {
                    guard let name = mount["name"]?.stringValue, let mountPath = mount["mountPath"]?.stringValue else { continue }
                    guard var source = volumes[name] else {
                        throw PodEnvironment.ConfigError(message: "volumeMount \"\(name)\" names no volume of the Pod")
                    }
                    if let subPath = mount["subPath"]?.stringValue, !subPath.isEmpty {
                        guard !subPath.split(separator: "/").contains("..") else {
                            throw PodEnvironment.ConfigError(message: "volumeMount \"\(name)\": subPath must not contain '..'")
                        }
                        source += "/" + subPath
                    }
                    let target = root + mountPath
                    guard !mountPath.split(separator: "/").contains(".."), !manager.fileExists(atPath: target) else { continue }
                    try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try manager.createSymbolicLink(atPath: target, withDestinationPath: source)
                }
            }
        }
        return volumes
    }

    /// token (when a token source is wired), ca.crt and namespace, as a projected ServiceAccount volume holds them.
    private func writeServiceAccount() throws {
        let directory = root + Kubelet.serviceAccountPath
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.write(Data(pod.namespace.utf8), to: directory + "/namespace", mode: 0o644)
        if let certificate = context.certificatePEM { try Self.write(Data(certificate.utf8), to: directory + "/ca.crt", mode: 0o644) }
        let account = pod.value(at: ["spec", "serviceAccountName"])?.stringValue ?? "default"
        if let source = context.tokenSource, let token = try source(pod.namespace, account, pod.name, uid, []) {
            try Self.write(Data(token.utf8), to: directory + "/token", mode: 0o600)
        }
    }

    /// A projected volume of `serviceAccountToken` sources (what a session runner mounts): each `path` gets the
    /// Pod's token from the token source, as the ServiceAccount directory does, for the source's `audience` (the API
    /// server's when absent, as the kubelet does); without a token source the file is left out. `expirationSeconds`
    /// is not honoured (an hour).
    private func writeProjectedTokens(_ projected: JSON, volume: String, into directory: String) throws {
        for source in projected["sources"]?.arrayValue ?? [] {
            guard source["serviceAccountToken"] != nil else {
                throw PodEnvironment.ConfigError(message: "volume \"\(volume)\": the local cluster supports projected serviceAccountToken sources only")
            }
            let path = source["serviceAccountToken"]?["path"]?.stringValue ?? ""
            guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw PodEnvironment.ConfigError(message: "volume \"\(volume)\": serviceAccountToken path \"\(path)\" must be a relative path without '..'")
            }
            guard let tokenSource = context.tokenSource else { continue }
            let account = pod.value(at: ["spec", "serviceAccountName"])?.stringValue ?? "default"
            let file = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let audiences = source["serviceAccountToken"]?["audience"]?.stringValue.map { [$0] } ?? []
            guard let token = try tokenSource(pod.namespace, account, pod.name, uid, audiences) else { continue }
            try Self.write(Data(token.utf8), to: file, mode: 0o600)
        }
    }

    /// Creates the file with its mode from the start (a Secret is never readable by others, even briefly).
    static func write(_ data: Data, to path: String, mode: Int) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard descriptor >= 0 else { throw PodEnvironment.ConfigError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        fchmod(descriptor, mode_t(mode))
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, data.count) }
        guard written == data.count else { throw PodEnvironment.ConfigError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}
