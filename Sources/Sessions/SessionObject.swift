import Foundation
import Support
import Model

/// A Session as read from the cluster: identity, the spec the controller acts on, the intents users expressed
/// (`spec.stop`, `spec.approval`) and the status the controller wrote last.
public struct SessionObject: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var uid: String
    public var generation: Int
    public var creationTimestamp: Date
    public var trigger: Session.Trigger
    public var framework: Session.Framework
    public var constraints: Session.Constraints
    public var artifactReferences: [String]
    public var stop: StopRequest?
    public var approval: ApprovalDecision?
    public var status: SessionStatus

    /// `spec.stop: true`, with who asked (`spec.stoppedBy`, written by the Sessions API from the caller's identity).
    public struct StopRequest: Sendable, Hashable {
        public var by: String
        public init(by: String) { self.by = by }
    }

    /// `spec.approval`: `{decision: approved | rejected, by, at}`, written through the Sessions API after a
    /// SubjectAccessReview for the `approve` verb.
    public struct ApprovalDecision: Sendable, Hashable {
        public enum Decision: String, Sendable, Hashable { case approved, rejected }
        public var decision: Decision
        public var by: String
        public var at: Date?
        public init(decision: Decision, by: String, at: Date? = nil) {
            self.decision = decision
            self.by = by
            self.at = at
        }
    }

    public init(name: String, namespace: String, uid: String, generation: Int = 1, creationTimestamp: Date,
                trigger: Session.Trigger, framework: Session.Framework, constraints: Session.Constraints,
                artifactReferences: [String] = [], stop: StopRequest? = nil, approval: ApprovalDecision? = nil,
                status: SessionStatus = SessionStatus()) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.trigger = trigger
        self.framework = framework
        self.constraints = constraints
        self.artifactReferences = artifactReferences
        self.stop = stop
        self.approval = approval
        self.status = status
    }

    /// The model the runner is to use: `spec.framework.config.model`, else the policy's default.
    public func model(defaultModel: String) -> String {
        framework.config["model"]?.stringValue ?? defaultModel
    }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "Session: \(field): \(message)" }
    }

    /// Reads a Session object as the API server returns it.
    public init(object: JSONObject) throws(ParseError) {
        func need(_ value: String?, _ field: String) throws(ParseError) -> String {
            guard let value, !value.isEmpty else { throw ParseError(field: field, message: "Required value") }
            return value
        }
        let metadata = object["metadata"]
        let spec = object["spec"]
        let name = try need(metadata?["name"]?.stringValue, "metadata.name")
        let namespace = try need(metadata?["namespace"]?.stringValue, "metadata.namespace")
        let uid = try need(metadata?["uid"]?.stringValue, "metadata.uid")
        guard let created = metadata?["creationTimestamp"]?.stringValue.flatMap(Timestamp.parse) else {
            throw ParseError(field: "metadata.creationTimestamp", message: "Required value: an RFC 3339 time")
        }
        let sourceText = try need(spec?["trigger"]?["source"]?.stringValue, "spec.trigger.source")
        guard let source = Session.Source(rawValue: sourceText) else {
            throw ParseError(field: "spec.trigger.source", message: "Unsupported value: \"\(sourceText)\"")
        }
        let trigger = Session.Trigger(source: source, event: spec?["trigger"]?["event"]?.stringValue ?? "",
                                      deliveryID: spec?["trigger"]?["deliveryId"]?.stringValue,
                                      payload: spec?["trigger"]?["payload"]?.objectValue ?? [:])
        let framework = Session.Framework(type: try need(spec?["framework"]?["type"]?.stringValue, "spec.framework.type"),
                                          version: spec?["framework"]?["version"]?.stringValue ?? "",
                                          config: spec?["framework"]?["config"]?.objectValue ?? [:])
        let policy = spec?["policy"]
        var budget: Amount?
        if let text = policy?["modelConstraints"]?["budget"]?.stringValue {
            guard let amount = Amount(text) else {
                throw ParseError(field: "spec.policy.modelConstraints.budget", message: "Invalid value: \"\(text)\": a decimal amount")
            }
            budget = amount
        }
        let constraints = Session.Constraints(
            allowedModels: policy?["modelConstraints"]?["allowed"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            budget: budget,
            allowedTools: policy?["toolConstraints"]?["allowed"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            approvalRequired: policy?["approvalRequired"]?.boolValue ?? false)
        var stop: StopRequest?
        if spec?["stop"]?.boolValue == true { stop = StopRequest(by: spec?["stoppedBy"]?.stringValue ?? "unknown") }
        var approval: ApprovalDecision?
        if let decisionJSON = spec?["approval"], decisionJSON.objectValue != nil {
            let text = try need(decisionJSON["decision"]?.stringValue, "spec.approval.decision")
            guard let decision = ApprovalDecision.Decision(rawValue: text) else {
                throw ParseError(field: "spec.approval.decision", message: "Unsupported value: \"\(text)\": supported values: \"approved\", \"rejected\"")
            }
            approval = ApprovalDecision(decision: decision, by: try need(decisionJSON["by"]?.stringValue, "spec.approval.by"),
                                        at: decisionJSON["at"]?.stringValue.flatMap(Timestamp.parse))
        }
        self.init(name: name, namespace: namespace, uid: uid, generation: metadata?["generation"]?.intValue ?? 1,
                  creationTimestamp: created, trigger: trigger, framework: framework, constraints: constraints,
                  artifactReferences: spec?["artifacts"]?["references"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  stop: stop, approval: approval, status: SessionStatus(json: object["status"]))
    }
}
