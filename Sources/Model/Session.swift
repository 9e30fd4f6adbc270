/// One AI coding-agent session (`ambient.ai/v1alpha1` Session) in a tenant namespace: what started it, which
/// runner framework runs it, and the policy it was admitted under. Its status belongs to the controller.
public struct Session: Sendable, Hashable {
    public static let apiVersion = "ambient.ai/v1alpha1"
    public static let kind = "Session"

    public enum Source: String, Sendable, Hashable, CaseIterable {
        case github, jira, slack, generic, manual
    }

    public enum Phase: String, Sendable, Hashable, CaseIterable {
        case pending = "Pending", running = "Running", completed = "Completed", failed = "Failed", stopped = "Stopped"
    }

    public struct Trigger: Sendable, Hashable {
        public var source: Source
        /// The event that started it, e.g. `issues.labeled` or `pull_request.opened`.
        public var event: String
        /// The delivery identifier it came from, which also names the object, so redelivery creates nothing new.
        public var deliveryID: String?
        /// The original event trimmed to what the runner needs (repository, number, title, body, author, command).
        public var payload: JSONObject

        public init(source: Source, event: String, deliveryID: String? = nil, payload: JSONObject = [:]) {
            self.source = source
            self.event = event
            self.deliveryID = deliveryID
            self.payload = payload
        }
    }

    public struct Framework: Sendable, Hashable {
        public var type: String
        public var version: String
        /// Framework-specific settings; the model to use is `config.model`.
        public var config: JSONObject

        public init(type: String, version: String, config: JSONObject = [:]) {
            self.type = type
            self.version = version
            self.config = config
        }
    }

    /// The constraints the session was admitted under, copied from its namespace's policy.
    public struct Constraints: Sendable, Hashable {
        public var allowedModels: [String]
        public var budget: Amount?
        public var allowedTools: [String]
        public var approvalRequired: Bool

        public init(allowedModels: [String], budget: Amount?, allowedTools: [String], approvalRequired: Bool) {
            self.allowedModels = allowedModels
            self.budget = budget
            self.allowedTools = allowedTools
            self.approvalRequired = approvalRequired
        }
    }

    public var name: String
    public var namespace: String
    public var trigger: Trigger
    public var framework: Framework
    public var constraints: Constraints
    public var artifactReferences: [String]

    public init(name: String, namespace: String, trigger: Trigger, framework: Framework, constraints: Constraints,
                artifactReferences: [String] = []) {
        self.name = name
        self.namespace = namespace
        self.trigger = trigger
        self.framework = framework
        self.constraints = constraints
        self.artifactReferences = artifactReferences
    }

    /// The object as sent to the API server (no status: that is the controller's to write).
    public var object: JSONObject {
        var trigger: JSONObject = ["source": .string(self.trigger.source.rawValue), "event": .string(self.trigger.event)]
        if let id = self.trigger.deliveryID { trigger["deliveryId"] = .string(id) }
        trigger["payload"] = .object(self.trigger.payload)
        var policy: JSONObject = ["modelConstraints": ["allowed": .strings(constraints.allowedModels)]]
        if let budget = constraints.budget {
            policy["modelConstraints"] = ["allowed": .strings(constraints.allowedModels), "budget": .string(budget.description)]
        }
        policy["toolConstraints"] = ["allowed": .strings(constraints.allowedTools)]
        policy["approvalRequired"] = .bool(constraints.approvalRequired)
        return [
            "apiVersion": .string(Session.apiVersion),
            "kind": .string(Session.kind),
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "trigger": .object(trigger),
                "framework": ["type": .string(framework.type), "version": .string(framework.version), "config": .object(framework.config)],
                "policy": .object(policy),
                "artifacts": ["references": .strings(artifactReferences)],
            ],
        ]
    }
}
