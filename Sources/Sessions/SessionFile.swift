import Foundation
import Model

/// The file a runner pod reads at `SessionFile.mountPath`: everything it needs to run one session and nothing
/// secret (credentials are files of their own, named here by path). See specs/runner.md.
public struct SessionFile: Sendable, Hashable {
    public static let apiVersion = "tenantry.dev/v1alpha1"
    public static let kind = "RunnerSession"
    public static let mountDirectory = "/var/run/tenantry/session"
    public static let fileName = "session.json"
    public static var mountPath: String { "\(mountDirectory)/\(fileName)" }

    public var name: String
    public var namespace: String
    public var uid: String
    public var trigger: Session.Trigger
    public var framework: Session.Framework
    public var model: String
    public var allowedTools: [String]
    /// The most the run may cost; the runner stops its agent when the reported usage reaches it.
    public var budget: Amount?
    public var currency: String
    /// The runner stops its agent this long after it starts, before the Job's `activeDeadlineSeconds` kills the pod,
    /// so that it can still write its summary and upload what it has.
    public var timeoutSeconds: Int
    public var repository: Repository?
    /// Where artifacts are PUT: `<artifactsURL>/<name>`.
    public var artifactsURL: String
    /// Workspace-relative files the session declares as outputs (`spec.artifacts.references`).
    public var outputs: [String]
    public var workspace: String
    public var files: CredentialFiles

    public struct Repository: Sendable, Hashable {
        public var url: String
        /// A commit, a branch or a tag; nil for the remote's default branch.
        public var ref: String?
        public init(url: String, ref: String?) {
            self.url = url
            self.ref = ref
        }
    }

    /// Paths of the mounted credentials. The runner reads them; it never prints them.
    public struct CredentialFiles: Sendable, Hashable {
        public var serviceAccountToken: String
        public var modelAPIKey: String?
        public var gitToken: String?
        public init(serviceAccountToken: String, modelAPIKey: String?, gitToken: String?) {
            self.serviceAccountToken = serviceAccountToken
            self.modelAPIKey = modelAPIKey
            self.gitToken = gitToken
        }
    }

    public init(name: String, namespace: String, uid: String, trigger: Session.Trigger, framework: Session.Framework, model: String,
                allowedTools: [String], budget: Amount?, currency: String, timeoutSeconds: Int, repository: Repository?,
                artifactsURL: String, outputs: [String], workspace: String, files: CredentialFiles) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.trigger = trigger
        self.framework = framework
        self.model = model
        self.allowedTools = allowedTools
        self.budget = budget
        self.currency = currency
        self.timeoutSeconds = timeoutSeconds
        self.repository = repository
        self.artifactsURL = artifactsURL
        self.outputs = outputs
        self.workspace = workspace
        self.files = files
    }

    public var json: JSON {
        var trigger: JSONObject = ["source": .string(self.trigger.source.rawValue), "event": .string(self.trigger.event)]
        if let id = self.trigger.deliveryID { trigger["deliveryId"] = .string(id) }
        trigger["payload"] = .object(self.trigger.payload)
        var budget: JSONObject = ["currency": .string(currency)]
        if let limit = self.budget { budget["limit"] = .string(limit.description) }
        var files: JSONObject = ["serviceAccountToken": .string(self.files.serviceAccountToken)]
        if let key = self.files.modelAPIKey { files["modelAPIKey"] = .string(key) }
        if let token = self.files.gitToken { files["gitToken"] = .string(token) }
        var object: JSONObject = [
            "apiVersion": .string(SessionFile.apiVersion), "kind": .string(SessionFile.kind),
            "session": ["name": .string(name), "namespace": .string(namespace), "uid": .string(uid)],
            "trigger": .object(trigger),
            "framework": ["type": .string(framework.type), "version": .string(framework.version), "config": .object(framework.config)],
            "model": .string(model),
            "allowedTools": .strings(allowedTools),
            "budget": .object(budget),
            "timeoutSeconds": .int(timeoutSeconds),
        ]
        if let repository {
            var repo: JSONObject = ["url": .string(repository.url)]
            if let ref = repository.ref { repo["ref"] = .string(ref) }
            object["repository"] = .object(repo)
        }
        object["artifacts"] = ["uploadURL": .string(artifactsURL), "outputs": .strings(outputs)]
        object["workspace"] = .string(workspace)
        object["files"] = .object(files)
        return .object(object)
    }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "session file: \(field): \(message)" }
    }

    public init(json: JSON) throws(ParseError) {
        func string(_ value: JSON?, _ field: String) throws(ParseError) -> String {
            guard let text = value?.stringValue, !text.isEmpty else { throw ParseError(field: field, message: "Required value") }
            return text
        }
        guard json["apiVersion"]?.stringValue == SessionFile.apiVersion, json["kind"]?.stringValue == SessionFile.kind else {
            throw ParseError(field: "apiVersion/kind", message: "expected \(SessionFile.apiVersion) \(SessionFile.kind)")
        }
        let sourceText = try string(json["trigger"]?["source"], "trigger.source")
        guard let source = Session.Source(rawValue: sourceText) else {
            throw ParseError(field: "trigger.source", message: "Unsupported value: \"\(sourceText)\"")
        }
        var budget: Amount?
        if let text = json["budget"]?["limit"]?.stringValue {
            guard let amount = Amount(text) else { throw ParseError(field: "budget.limit", message: "Invalid value: \"\(text)\": a decimal amount") }
            budget = amount
        }
        guard let timeout = json["timeoutSeconds"]?.intValue, timeout > 0 else {
            throw ParseError(field: "timeoutSeconds", message: "Required value: a positive number of seconds")
        }
        var repository: Repository?
        if let repo = json["repository"], repo.objectValue != nil {
            repository = Repository(url: try string(repo["url"], "repository.url"), ref: repo["ref"]?.stringValue)
        }
        self.init(name: try string(json["session"]?["name"], "session.name"),
                  namespace: try string(json["session"]?["namespace"], "session.namespace"),
                  uid: json["session"]?["uid"]?.stringValue ?? "",
                  trigger: Session.Trigger(source: source, event: json["trigger"]?["event"]?.stringValue ?? "",
                                           deliveryID: json["trigger"]?["deliveryId"]?.stringValue,
                                           payload: json["trigger"]?["payload"]?.objectValue ?? [:]),
                  framework: Session.Framework(type: try string(json["framework"]?["type"], "framework.type"),
                                               version: json["framework"]?["version"]?.stringValue ?? "",
                                               config: json["framework"]?["config"]?.objectValue ?? [:]),
                  model: json["model"]?.stringValue ?? "",
                  allowedTools: json["allowedTools"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  budget: budget, currency: json["budget"]?["currency"]?.stringValue ?? "",
                  timeoutSeconds: timeout, repository: repository,
                  artifactsURL: try string(json["artifacts"]?["uploadURL"], "artifacts.uploadURL"),
                  outputs: json["artifacts"]?["outputs"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  workspace: try string(json["workspace"], "workspace"),
                  files: CredentialFiles(serviceAccountToken: try string(json["files"]?["serviceAccountToken"], "files.serviceAccountToken"),
                                         modelAPIKey: json["files"]?["modelAPIKey"]?.stringValue,
                                         gitToken: json["files"]?["gitToken"]?.stringValue))
    }
}
