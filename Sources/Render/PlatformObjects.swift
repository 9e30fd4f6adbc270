import Model

/// The cluster-wide objects every tenant relies on: the platform's CRDs and the shared ClusterRoles.
enum PlatformObjects {
    static func clusterRoleName(_ role: Role) -> String { "tenantry:\(role.rawValue)" }

    /// Bound in each tenant namespace to the policy's `approval.approvers` groups.
    static let approverRoleName = "tenantry:approver"

    static func render() -> [JSONObject] {
        [CRDSchemas.sessionCRD, CRDSchemas.namespacePolicyCRD] + Role.allCases.map(clusterRole) + [approverRole]
    }

    /// The custom verb `approve` on sessions (as `certificates.k8s.io` does for CSR signers): the Sessions API asks a
    /// SubjectAccessReview for it before it records a decision. Nothing else: approvers read sessions as members do.
    private static var approverRole: JSONObject {
        Kube.object("rbac.authorization.k8s.io/v1", "ClusterRole", name: approverRoleName, namespace: nil,
                    body: ["rules": [Kube.rule(["ambient.ai"], ["sessions"], ["approve"])]])
    }

    /// viewer reads sessions, policies, pods and logs (and, through the Sessions API, a session's logs and
    /// artifacts: the subresources it asks a SubjectAccessReview for); editor also starts and stops sessions;
    /// admin also reads the namespace's audit trail and deletes stuck runner pods. Nobody but the session controller
    /// writes `sessions/status` (people act through the spec: stop, approval), so no tenant role grants it.
    private static func clusterRole(_ role: Role) -> JSONObject {
        var rules: [JSON] = [
            Kube.rule(["ambient.ai"], ["sessions", "namespacepolicies"], ["get", "list", "watch"]),
            Kube.rule(["ambient.ai"], ["sessions/logs", "sessions/artifacts"], ["get"]),
            Kube.rule([""], ["pods", "pods/log", "events"], ["get", "list", "watch"]),
        ]
        if role >= .editor {
            rules.append(Kube.rule(["ambient.ai"], ["sessions"], ["create", "update", "patch", "delete"]))
        }
        if role >= .admin {
            rules.append(Kube.rule(["ambient.ai"], ["sessions/audit"], ["get"]))
            rules.append(Kube.rule([""], ["pods"], ["delete"]))
        }
        return Kube.object("rbac.authorization.k8s.io/v1", "ClusterRole", name: clusterRoleName(role), namespace: nil,
                           body: ["rules": .array(rules)])
    }
}

/// OpenAPI v3 schemas of the platform's custom resources (the seed design's Session and NamespacePolicy).
enum CRDSchemas {
    // MARK: Schema builders

    static func object(_ properties: [(String, JSON)], required: [String] = [], description: String? = nil) -> JSON {
        var schema: JSONObject = ["type": "object"]
        if let description { schema["description"] = .string(description) }
        schema["properties"] = .object(JSONObject(properties))
        if !required.isEmpty { schema["required"] = .strings(required) }
        return .object(schema)
    }

    static func string(_ description: String? = nil, pattern: String? = nil, format: String? = nil, enumeration: [String]? = nil,
                       maxLength: Int? = nil) -> JSON {
        var schema: JSONObject = ["type": "string"]
        if let description { schema["description"] = .string(description) }
        if let pattern { schema["pattern"] = .string(pattern) }
        if let format { schema["format"] = .string(format) }
        if let enumeration { schema["enum"] = .strings(enumeration) }
        if let maxLength { schema["maxLength"] = .int(maxLength) }
        return .object(schema)
    }

    static func integer(minimum: Int, _ description: String? = nil) -> JSON {
        var schema: JSONObject = ["type": "integer", "format": "int64", "minimum": .int(minimum)]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static let boolean: JSON = ["type": "boolean"]

    static func array(_ items: JSON, maxItems: Int? = nil, set: Bool = false) -> JSON {
        var schema: JSONObject = ["type": "array", "items": items]
        if let maxItems { schema["maxItems"] = .int(maxItems) }
        if set { schema["x-kubernetes-list-type"] = "set" }
        return .object(schema)
    }

    static func freeform(_ description: String) -> JSON {
        ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
    }

    static let decimal = "^[0-9]+(\\.[0-9]{1,6})?$"
    static let duration = "^[0-9]+[smhdwy]$"
    static let names = array(string(maxLength: 128), set: true)

    static let conditions = array(object([
        ("type", string("PolicyValidated, WorkloadCreated, Approved, Ready, …")),
        ("status", string(enumeration: ["True", "False", "Unknown"])),
        ("reason", string()),
        ("message", string()),
        ("lastTransitionTime", string(format: "date-time")),
        ("observedGeneration", integer(minimum: 0)),
    ], required: ["type", "status", "lastTransitionTime"]))

    // MARK: Session

    static let sessionSpec = object([
        ("trigger", object([
            ("source", string(enumeration: ["github", "jira", "slack", "generic", "manual"])),
            ("event", string("The event that started the session, e.g. pull_request.")),
            ("deliveryId", string("The delivery identifier the session was created from, for dedupe and audit.")),
            ("payload", freeform("The original event, trimmed to what the runner needs.")),
        ], required: ["source"])),
        ("framework", object([
            ("type", string("A runner framework registered on the platform, e.g. claude-code.")),
            ("version", string()),
            ("config", freeform("Framework-specific configuration; the model to use lives here.")),
        ], required: ["type"])),
        ("policy", object([
            ("modelConstraints", object([("allowed", names), ("budget", string(pattern: decimal))])),
            ("toolConstraints", object([("allowed", names)])),
            ("approvalRequired", boolean),
        ])),
        ("artifacts", object([
            ("references", array(string())),
            ("storage", object([("type", string(enumeration: ["s3", "pvc", "external"])), ("location", string())])),
        ])),
        ("stop", ["type": "boolean", "description": "Set to true to stop the session: its Job is deleted and it ends Stopped."]),
        ("stoppedBy", string("Who asked to stop, as the Sessions API authenticated them.")),
        ("approval", object([
            ("decision", string(enumeration: ["approved", "rejected"])),
            ("by", string("The approver, as the Sessions API authenticated them.")),
            ("at", string(format: "date-time")),
        ], required: ["decision", "by"], description: "An approver's decision, written through the Sessions API after a SubjectAccessReview for approve.")),
    ], required: ["trigger", "framework"])

    static let sessionStatus = object([
        ("phase", string(enumeration: ["Pending", "Running", "Completed", "Failed", "Stopped"])),
        ("reason", string("Why the session is in its phase: UserRequested, Timeout, PolicyViolation, …")),
        ("message", string()),
        ("observedGeneration", integer(minimum: 0)),
        ("conditions", conditions),
        ("history", array(object([
            ("timestamp", string(format: "date-time")),
            ("event", string()),
            ("actor", string()),
            ("data", freeform("Event details.")),
        ], required: ["timestamp", "event"]), maxItems: 1000)),
        ("archivedHistory", integer(minimum: 0, "How many of the oldest history entries moved to artifact storage.")),
        ("artifacts", object([("generated", array(object([
            ("type", string(enumeration: ["log", "output", "intermediate", "error"])),
            ("location", string()),
            ("createdAt", string(format: "date-time")),
        ], required: ["type", "location"]), maxItems: 100))])),
        ("workload", object([("podName", string()), ("jobName", string())])),
        ("cost", object([("estimated", string(pattern: decimal)), ("actual", string(pattern: decimal)), ("currency", string(pattern: "^[A-Z]{3}$"))])),
        ("summary", string("The runner's account of what it did.", maxLength: 1024)),
        ("startTime", string(format: "date-time")),
        ("completionTime", string(format: "date-time")),
    ])

    static var sessionCRD: JSONObject {
        crd(kind: "Session", plural: "sessions", shortNames: ["sess"],
            schema: object([
                ("apiVersion", string()), ("kind", string()), ("metadata", ["type": "object"]),
                ("spec", sessionSpec), ("status", sessionStatus),
            ], required: ["spec"], description: "An AI coding-agent session run in a tenant namespace."),
            columns: [
                ["name": "Phase", "type": "string", "jsonPath": ".status.phase"],
                ["name": "Source", "type": "string", "jsonPath": ".spec.trigger.source"],
                ["name": "Framework", "type": "string", "jsonPath": ".spec.framework.type"],
                ["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"],
            ])
    }

    // MARK: NamespacePolicy

    static let namespacePolicySpec = object([
        ("tenant", object([
            ("name", string("The tenant the namespace belongs to.", maxLength: 253)),
            ("ledgerNamespace", string("The namespace whose NamespacePolicy status holds the tenant's one budget ledger.", maxLength: 63)),
        ], required: ["name", "ledgerNamespace"])),
        ("models", object([
            ("allowed", names), ("blocked", names), ("default", string()),
            ("budget", object([
                ("monthly", string("Monthly budget as a decimal string.", pattern: decimal)),
                ("currency", string(pattern: "^[A-Z]{3}$")),
            ], required: ["monthly", "currency"])),
        ], required: ["allowed"])),
        ("tools", object([("allowed", names), ("blocked", names)])),
        ("approval", object([("required", boolean), ("approvers", names), ("timeout", string("How long a session waits for a decision (default 24h).", pattern: duration))])),
        ("retention", object([
            ("sessions", string(pattern: duration)), ("artifacts", string(pattern: duration)), ("auditLogs", string(pattern: duration)),
        ])),
        ("limits", object([
            ("maxConcurrentSessions", integer(minimum: 1)),
            ("sessionTimeout", string(pattern: duration)),
            ("sessionsPerMinute", integer(minimum: 1)),
            ("backoffLimit", integer(minimum: 0, "Runner pod retries before a session fails (default 0).")),
        ])),
        ("runner", object([("type", string()), ("version", string()), ("image", string())])),
        ("notifications", object([("webhooks", array(object([
            ("url", string(pattern: "^https://")),
            ("events", names),
        ], required: ["url", "events"]))),
            ("signingSecret", string("The Secret, in the session's namespace, whose key `secret` signs the callbacks."))])),
        ("webhookAuth", object([("apiKeys", object(WebhookSource.allCases.map {
            ($0.rawValue, string("SHA-256 hash of the API key for \($0.rawValue) webhooks.", pattern: "^sha256:[0-9a-f]{64}$"))
        }))])),
        ("routing", object([("github", names), ("jira", names), ("slack", names)])),
        ("triggers", freeform("Which events start a session, per source.")),
    ], required: ["models"])

    static let namespacePolicyStatus = object([
        ("observedGeneration", integer(minimum: 0)),
        ("conditions", conditions),
        ("budget", object([
            ("month", string(pattern: "^[0-9]{4}-[0-9]{2}$")),
            ("reserved", string(pattern: decimal)),
            ("spent", string(pattern: decimal)),
            ("remaining", string(pattern: decimal)),
            ("settled", ["type": "array", "items": ["type": "string"], "maxItems": 10000,
                         "description": "Sessions (uids) settled into this ledger whose final status may not be written yet."]),
        ])),
        // Shared by the webhook receivers (`serve --admission cluster`): the sessions holding a reservation and a slot
        // until the controller settles them, and the admissions of the last minute (sessionsPerMinute).
        ("admission", object([
            // On the tenant's ledger namespace, entries of all its namespaces: each names its own (limits stay per namespace).
            ("live", array(object([("session", string(maxLength: 253)), ("namespace", string(maxLength: 63)), ("cost", string(pattern: decimal)),
                                   ("month", string(pattern: "^[0-9]{4}-[0-9]{2}$")), ("at", string(format: "date-time"))]))),
            ("recent", array(object([("session", string(maxLength: 253)), ("namespace", string(maxLength: 63)), ("at", string(format: "date-time"))]))),
            // One session per intent within the intent window, across receivers.
            ("intents", array(object([("key", string(maxLength: 2048)), ("session", string(maxLength: 253)), ("at", string(format: "date-time"))]))),
        ])),
        ("activeSessions", integer(minimum: 0)),
        ("sessions", object([
            ("pending", integer(minimum: 0)), ("running", integer(minimum: 0)), ("completed", integer(minimum: 0)),
            ("failed", integer(minimum: 0)), ("stopped", integer(minimum: 0)),
        ])),
    ])

    static var namespacePolicyCRD: JSONObject {
        crd(kind: "NamespacePolicy", plural: "namespacepolicies", shortNames: ["nspol"],
            schema: object([
                ("apiVersion", string()), ("kind", string()), ("metadata", ["type": "object"]),
                ("spec", namespacePolicySpec), ("status", namespacePolicyStatus),
            ], required: ["spec"], description: "The policy sessions in a tenant namespace must comply with."),
            columns: [
                ["name": "Budget", "type": "string", "jsonPath": ".spec.models.budget.monthly"],
                ["name": "Currency", "type": "string", "jsonPath": ".spec.models.budget.currency"],
                ["name": "Approval", "type": "boolean", "jsonPath": ".spec.approval.required"],
                ["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"],
            ])
    }

    private static func crd(kind: String, plural: String, shortNames: [String], schema: JSON, columns: [JSON]) -> JSONObject {
        Kube.object("apiextensions.k8s.io/v1", "CustomResourceDefinition", name: "\(plural).ambient.ai", namespace: nil, body: [
            "spec": [
                "group": "ambient.ai",
                "names": [
                    "kind": .string(kind), "listKind": .string(kind + "List"), "plural": .string(plural),
                    "singular": .string(kind.lowercased()), "shortNames": .strings(shortNames),
                ],
                "scope": "Namespaced",
                "versions": [[
                    "name": "v1alpha1", "served": true, "storage": true,
                    "schema": ["openAPIV3Schema": schema],
                    "subresources": ["status": [:]],
                    "additionalPrinterColumns": .array(columns),
                ]],
            ],
        ])
    }
}
