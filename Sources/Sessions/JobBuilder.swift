import Foundation
import Model
import Support

/// A Session + its namespace's policy + the platform's runner registry → the `batch/v1` Job that runs it, and
/// the ConfigMap holding its session file. Both are owned by the Session, so deleting it collects them.
public enum JobBuilder {
    public static let containerName = "runner"
    public static let serviceAccount = "session-runner"
    /// The label the rendered `allow-runner-egress` NetworkPolicy selects on, with this value.
    public static let componentLabel = "app.kubernetes.io/component"
    public static let sessionLabel = "ambient.ai/session"
    public static let workspacePath = "/workspace"
    public static let tokenDirectory = "/var/run/secrets/tenantry"
    public static let modelCredentialsDirectory = "/var/run/secrets/model"
    public static let gitCredentialsDirectory = "/var/run/secrets/git"
    /// The runner stops its agent this long before the Job's deadline, so it can still report.
    public static let reportingMargin = 30
    /// The non-root user the runner image runs as (the distroless `nonroot` user).
    public static let runAsUser = 65532

    public struct BuildError: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// `<session>-run`, or for a long session name a prefix and a hash of the whole, so it stays a valid
    /// 63-character label value (the Job controller copies the name into the `job-name` label of its Pods).
    public static func jobName(for session: String) -> String {
        let plain = "\(session)-run"
        if plain.count <= 63 { return plain }
        let hash = String(Crypto.sha256Hex(Array(session.utf8)).prefix(10))
        var prefix = String(session.prefix(63 - 15))
        while prefix.hasSuffix("-") || prefix.hasSuffix(".") { prefix.removeLast() }
        return "\(prefix)-\(hash)-run"
    }

    public static func labels(for session: String) -> JSONObject {
        [componentLabel: .string(serviceAccount), "app.kubernetes.io/part-of": "tenantry", sessionLabel: .string(session)]
    }

    /// The registered image for the Session's framework at its version (`image:version`), or why there is none.
    public static func image(for framework: Session.Framework, policy: PolicySnapshot, runners: [RunnerFramework]) throws(BuildError) -> String {
        guard let runner = runners.first(where: { $0.type == framework.type }) else {
            throw BuildError(message: "runner framework \"\(framework.type)\" is not registered on the platform (registered: \(runners.map(\.type).joined(separator: ", ")))")
        }
        let version = framework.version.isEmpty ? policy.runnerVersion : framework.version
        guard runner.versions.contains(version) else {
            throw BuildError(message: "runner framework \"\(framework.type)\" has no version \"\(version)\" on the platform (versions: \(runner.versions.joined(separator: ", ")))")
        }
        return "\(runner.image):\(version)"
    }

    /// The frameworks the reference runner (`tenantry runner`) knows how to run.
    public static let referenceFrameworks = ["claude-code", "script"]

    /// Why a runner started for this framework would have nothing to run, before any Job exists: a `script` Session
    /// naming no `framework.config.command` where the platform's registry entry names no `command` either; or, where
    /// the runner is Tenantry's own executable (the embedded cluster), a framework it does not run. Nil when it can run.
    public static func nothingToRun(_ framework: Session.Framework, environment: RunnerEnvironment) -> String? {
        let registered = environment.runners.first { $0.type == framework.type }
        if framework.type == "script", (framework.config["command"]?.stringValue ?? "").isEmpty, (registered?.command ?? "").isEmpty {
            return "the \"script\" runner has nothing to run: the session sets no framework.config.command and the platform's runner registry entry \"script\" names no command; add `command:` to runners[script] in platform.yaml, or create the session with framework.config.command"
        }
        if environment.runnerCommand != nil, !referenceFrameworks.contains(framework.type) {
            return "framework \"\(framework.type)\" has nothing to run here: this cluster runs Tenantry's reference runner (\(environment.runnerCommand!.joined(separator: " "))), which runs \(referenceFrameworks.joined(separator: " and ")); register the framework on a cluster that pulls its image \(registered.map { "(\($0.image))" } ?? "")"
        }
        return nil
    }

    /// The session file the runner reads.
    public static func sessionFile(_ session: SessionObject, policy: PolicySnapshot, environment: RunnerEnvironment,
                                   budget: Amount?) -> SessionFile {
        var repository: SessionFile.Repository?
        if let full = session.trigger.payload["repository"]?.stringValue, !full.isEmpty {
            let payload = session.trigger.payload
            let ref = payload["headSha"]?.stringValue ?? payload["headRef"]?.stringValue ?? payload["baseRef"]?.stringValue
            repository = .init(url: "\(environment.gitBaseURL)/\(full).git", ref: ref)
        }
        let timeout = max(1, Int(policy.sessionTimeout) - reportingMargin)
        // A Session without its own command (the webhooks write none) runs the one the platform registered.
        var framework = session.framework
        if framework.config["command"] == nil, let command = environment.runners.first(where: { $0.type == framework.type })?.command {
            framework.config["command"] = .string(command)
        }
        return SessionFile(
            name: session.name, namespace: session.namespace, uid: session.uid, trigger: session.trigger, framework: framework,
            model: session.model(defaultModel: policy.defaultModel),
            allowedTools: session.constraints.allowedTools.filter(policy.allowsTool),
            budget: budget, currency: policy.budget.currency, timeoutSeconds: timeout, repository: repository,
            artifactsURL: "\(environment.apiURL)/api/v1/namespaces/\(session.namespace)/sessions/\(session.name)/artifacts",
            outputs: session.artifactReferences, workspace: workspacePath,
            files: .init(serviceAccountToken: "\(tokenDirectory)/token", modelAPIKey: "\(modelCredentialsDirectory)/api-key",
                         gitToken: environment.gitCredentialsSecret.map { _ in "\(gitCredentialsDirectory)/token" }))
    }

    private static func ownerReference(_ session: SessionObject) -> JSON {
        ["apiVersion": .string(Session.apiVersion), "kind": .string(Session.kind), "name": .string(session.name),
         "uid": .string(session.uid), "controller": true, "blockOwnerDeletion": true]
    }

    /// The ConfigMap with the session file, named like the Job.
    public static func configMap(_ session: SessionObject, file: SessionFile) -> JSONObject {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(jobName(for: session.name)), "namespace": .string(session.namespace),
                         "labels": .object(labels(for: session.name)), "ownerReferences": [ownerReference(session)]],
            "data": .object(JSONObject([(SessionFile.fileName, .string(file.json.prettyText + "\n"))])),
        ]
    }

    /// The Job that runs the Session. Requests and limits are the LimitRange defaults, each capped at its maximum.
    public static func job(_ session: SessionObject, policy: PolicySnapshot, environment: RunnerEnvironment) throws(BuildError) -> JSONObject {
        let image = try image(for: session.framework, policy: policy, runners: environment.runners)
        let name = jobName(for: session.name)
        let containers = environment.containers
        func capped(_ wanted: ResourceList) -> JSON {
            let cpu = wanted.cpu.value > containers.max.cpu.value ? containers.max.cpu : wanted.cpu
            let memory = wanted.memory.value > containers.max.memory.value ? containers.max.memory : wanted.memory
            return ["cpu": .string(cpu.text), "memory": .string(memory.text)]
        }
        var mounts: [JSON] = [
            ["name": "session", "mountPath": .string(SessionFile.mountDirectory), "readOnly": true],
            ["name": "workspace", "mountPath": .string(workspacePath)],
            ["name": "tmp", "mountPath": "/tmp"],
            ["name": "token", "mountPath": .string(tokenDirectory), "readOnly": true],
            ["name": "model-credentials", "mountPath": .string(modelCredentialsDirectory), "readOnly": true],
        ]
        var volumes: [JSON] = [
            ["name": "session", "configMap": ["name": .string(name)]],
            ["name": "workspace", "emptyDir": [:]],
            ["name": "tmp", "emptyDir": [:]],
            ["name": "token", "projected": ["sources": [[
                "serviceAccountToken": ["audience": .string(environment.tokenAudience), "expirationSeconds": 3600, "path": "token"],
            ]]]],
            ["name": "model-credentials", "secret": ["secretName": .string(environment.modelCredentialsSecret)]],
        ]
        if let secret = environment.gitCredentialsSecret {
            mounts.append(["name": "git-credentials", "mountPath": .string(gitCredentialsDirectory), "readOnly": true])
            volumes.append(["name": "git-credentials", "secret": ["secretName": .string(secret)]])
        }
        var container: JSONObject = [
            "name": .string(containerName),
            "image": .string(image),
            "args": ["runner", "--session-file", .string(SessionFile.mountPath)],
            "workingDir": .string(workspacePath),
            "resources": ["requests": capped(containers.defaultRequest), "limits": capped(containers.defaultLimit)],
            "securityContext": [
                "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                "capabilities": ["drop": ["ALL"]], "seccompProfile": ["type": "RuntimeDefault"],
            ],
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "volumeMounts": .array(mounts),
        ]
        if let command = environment.runnerCommand { container["command"] = .array(command.map { .string($0) }) }
        return [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": ["name": .string(name), "namespace": .string(session.namespace), "labels": .object(labels(for: session.name)),
                         "ownerReferences": [ownerReference(session)]],
            "spec": [
                "backoffLimit": .int(policy.backoffLimit),
                "activeDeadlineSeconds": .int(max(1, Int(policy.sessionTimeout))),
                "ttlSecondsAfterFinished": .int(environment.ttlSecondsAfterFinished),
                "template": [
                    "metadata": ["labels": .object(labels(for: session.name))],
                    "spec": [
                        "serviceAccountName": .string(serviceAccount),
                        // The token the runner needs is the projected one above, with Tenantry's audience and an expiry.
                        "automountServiceAccountToken": false,
                        "restartPolicy": "Never",
                        "enableServiceLinks": false,
                        "securityContext": [
                            "runAsNonRoot": true, "runAsUser": .int(runAsUser), "runAsGroup": .int(runAsUser), "fsGroup": .int(runAsUser),
                            "seccompProfile": ["type": "RuntimeDefault"],
                        ],
                        "containers": [.object(container)],
                        "volumes": .array(volumes),
                    ],
                ],
            ],
        ]
    }
}
