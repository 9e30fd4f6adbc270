import Foundation
import Model

/// What the controller needs of a tenant namespace's NamespacePolicy, read from the object as it is now (it may
/// have changed since the Session was admitted).
public struct PolicySnapshot: Sendable, Hashable {
    public var namespace: String
    /// `spec.tenant`: the tenant and the namespace holding its one budget ledger (nil on a policy rendered before
    /// tenants had one ledger: it is its own).
    public var tenant: String?
    public var ledgerNamespace: String?
    public var allowedModels: [String]
    public var blockedModels: [String]
    public var defaultModel: String
    public var allowedTools: [String]
    public var blockedTools: [String]
    public var budget: Budget
    public var approvalRequired: Bool
    public var approvers: [String]
    /// How long a Session may wait for a decision before it fails with `ApprovalTimeout` (default 24h).
    public var approvalTimeout: TimeInterval
    public var sessionTimeout: TimeInterval
    /// Pod retries before the Job fails (`limits.backoffLimit`, default 0: an agent's run is not idempotent).
    public var backoffLimit: Int
    public var runnerType: String
    public var runnerVersion: String
    /// How long Sessions in a final phase, and artifacts, are kept (`retention.sessions`, default 90d;
    /// `retention.artifacts`, default 30d).
    public var sessionRetention: TimeInterval
    public var artifactRetention: TimeInterval
    /// `status.budget`: the ledger of record; a fresh one for the month when the status has none.
    public var ledger: BudgetLedger?
    /// The object's resourceVersion, for compare-and-swap on the ledger.
    public var resourceVersion: String?

    public static let defaultApprovalTimeout: TimeInterval = 24 * 3600

    /// The namespace whose NamespacePolicy status is this namespace's budget ledger.
    public var ledgerHome: String { ledgerNamespace ?? namespace }

    public init(namespace: String, allowedModels: [String], blockedModels: [String] = [], defaultModel: String,
                allowedTools: [String], blockedTools: [String] = [], budget: Budget, approvalRequired: Bool = false,
                approvers: [String] = [], approvalTimeout: TimeInterval = PolicySnapshot.defaultApprovalTimeout,
                sessionTimeout: TimeInterval, backoffLimit: Int = 0, runnerType: String, runnerVersion: String,
                sessionRetention: TimeInterval = 90 * 86_400, artifactRetention: TimeInterval = 30 * 86_400,
                ledger: BudgetLedger? = nil, resourceVersion: String? = nil) {
        self.namespace = namespace
        self.allowedModels = allowedModels
        self.blockedModels = blockedModels
        self.defaultModel = defaultModel
        self.allowedTools = allowedTools
        self.blockedTools = blockedTools
        self.budget = budget
        self.approvalRequired = approvalRequired
        self.approvers = approvers
        self.approvalTimeout = approvalTimeout
        self.sessionTimeout = sessionTimeout
        self.backoffLimit = backoffLimit
        self.runnerType = runnerType
        self.runnerVersion = runnerVersion
        self.sessionRetention = sessionRetention
        self.artifactRetention = artifactRetention
        self.ledger = ledger
        self.resourceVersion = resourceVersion
    }

    public func allowsModel(_ model: String) -> Bool { allowedModels.contains(model) && !blockedModels.contains(model) }
    public func allowsTool(_ tool: String) -> Bool { allowedTools.contains(tool) && !blockedTools.contains(tool) }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "NamespacePolicy: \(field): \(message)" }
    }

    /// Reads a NamespacePolicy object (`spec` as Render writes it, `status.budget` as the ledger keeps it).
    public init(object: JSONObject) throws(ParseError) {
        let spec = object["spec"]
        func strings(_ value: JSON?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }
        func duration(_ value: JSON?, _ field: String, default fallback: TimeInterval) throws(ParseError) -> TimeInterval {
            guard let text = value?.stringValue else { return fallback }
            guard let span = TimeSpan(text) else { throw ParseError(field: field, message: "Invalid value: \"\(text)\": a duration such as 2h") }
            return TimeInterval(span.seconds)
        }
        guard let namespace = object["metadata"]?["namespace"]?.stringValue else {
            throw ParseError(field: "metadata.namespace", message: "Required value")
        }
        guard let monthlyText = spec?["models"]?["budget"]?["monthly"]?.stringValue, let monthly = Amount(monthlyText) else {
            throw ParseError(field: "spec.models.budget.monthly", message: "Required value: a decimal amount")
        }
        let currency = spec?["models"]?["budget"]?["currency"]?.stringValue ?? ""
        var ledger: BudgetLedger?
        if let status = object["status"]?["budget"], status.objectValue != nil {
            do { ledger = try BudgetLedger(json: status, monthly: monthly) } catch {
                throw ParseError(field: "status.budget", message: error.description)
            }
        }
        let allowed = strings(spec?["models"]?["allowed"])
        self.init(namespace: namespace, allowedModels: allowed, blockedModels: strings(spec?["models"]?["blocked"]),
                  defaultModel: spec?["models"]?["default"]?.stringValue ?? allowed.first ?? "",
                  allowedTools: strings(spec?["tools"]?["allowed"]), blockedTools: strings(spec?["tools"]?["blocked"]),
                  budget: Budget(monthly: monthly, currency: currency),
                  approvalRequired: spec?["approval"]?["required"]?.boolValue ?? false,
                  approvers: strings(spec?["approval"]?["approvers"]),
                  approvalTimeout: try duration(spec?["approval"]?["timeout"], "spec.approval.timeout", default: PolicySnapshot.defaultApprovalTimeout),
                  sessionTimeout: try duration(spec?["limits"]?["sessionTimeout"], "spec.limits.sessionTimeout", default: 7200),
                  backoffLimit: spec?["limits"]?["backoffLimit"]?.intValue ?? 0,
                  runnerType: spec?["runner"]?["type"]?.stringValue ?? "",
                  runnerVersion: spec?["runner"]?["version"]?.stringValue ?? "",
                  sessionRetention: try duration(spec?["retention"]?["sessions"], "spec.retention.sessions", default: 90 * 86_400),
                  artifactRetention: try duration(spec?["retention"]?["artifacts"], "spec.retention.artifacts", default: 30 * 86_400),
                  ledger: ledger, resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue)
        tenant = spec?["tenant"]?["name"]?.stringValue
        ledgerNamespace = spec?["tenant"]?["ledgerNamespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }
}
