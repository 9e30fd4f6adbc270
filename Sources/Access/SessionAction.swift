/// What a Sessions API call does, as the SubjectAccessReview asks it: a verb on `sessions.ambient.ai`
/// (or a subresource of it) in the namespace. The rendered roles (`tenantry:viewer|editor|admin`,
/// `tenantry:approver`) decide.
public enum SessionAction: String, Sendable, Hashable, CaseIterable {
    case list, get, create, stop, approve, reject, rerun, logs, artifacts, uploadArtifact, events, audit

    public var verb: String {
        switch self {
        case .list: return "list"
        case .get, .logs, .artifacts, .audit: return "get"
        case .create, .rerun, .uploadArtifact: return "create"
        case .stop: return "update"
        case .approve, .reject: return "approve"
        case .events: return "watch"
        }
    }

    public var subresource: String {
        switch self {
        case .logs: return "logs"
        case .artifacts, .uploadArtifact: return "artifacts"
        case .audit: return "audit"
        default: return ""
        }
    }
}

/// One question for the authorizer: may the caller do `verb` to sessions (`subresource`, `name`) in `namespace`?
public struct AccessRequest: Sendable, Hashable {
    public static let group = "ambient.ai"
    public static let resource = "sessions"

    public var namespace: String
    public var verb: String
    public var subresource: String
    public var name: String

    public init(namespace: String, verb: String, subresource: String = "", name: String = "") {
        self.namespace = namespace
        self.verb = verb
        self.subresource = subresource
        self.name = name
    }

    public init(_ action: SessionAction, namespace: String, session: String = "") {
        self.init(namespace: namespace, verb: action.verb, subresource: action.subresource, name: session)
    }

    /// kube-apiserver's wording of a denial. It is the same whether the namespace exists or not: the
    /// review is asked before anything is looked up, so a 403 tells nothing about another tenant.
    public func forbiddenMessage(user: String) -> String {
        let resource = subresource.isEmpty ? Self.resource : "\(Self.resource)/\(subresource)"
        let subject = name.isEmpty ? "\(Self.resource).\(Self.group)" : "\(Self.resource).\(Self.group) \"\(name)\""
        return "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resource)\" in API group \"\(Self.group)\" in the namespace \"\(namespace)\""
    }
}

/// Namespace names as Kubernetes allows them (RFC 1123 labels), checked before any review.
public enum NamespaceName {
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return alphanumeric(bytes.first!) && alphanumeric(bytes.last!) && bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D }
    }
}
