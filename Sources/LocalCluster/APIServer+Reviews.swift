import Foundation
import HTTPServer
import Model
import Support

/// The auth APIs: TokenReview and SelfSubjectReview (authentication.k8s.io/v1), SubjectAccessReview,
/// LocalSubjectAccessReview, SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1),
/// and TokenRequest (`serviceaccounts/NAME/token`). Each is answered, never stored.
extension APIServer {
    func review(_ target: ResourceRoute, _ request: Request, user: UserInfo) throws -> Response {
        guard request.method == "POST", target.name == nil else { throw APIError.methodNotAllowed(request.method, request.path) }
        let body = try reviewBody(request, target)
        let spec = body["spec"] ?? [:]
        let status: JSON
        switch target.type.plural {
        case "tokenreviews": status = tokenReview(spec)
        case "selfsubjectreviews": status = ["userInfo": user.json]
        case "selfsubjectaccessreviews": status = try accessReview(for: user, spec, target)
        case "subjectaccessreviews", "localsubjectaccessreviews":
            let groups = spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let name = spec["user"]?.stringValue ?? ""
            guard !name.isEmpty || !groups.isEmpty else {
                throw invalidReview(target, [APIError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \"\": at least one of user or group must be specified", field: "spec.user")])
            }
            status = try accessReview(for: UserInfo(name: name, uid: spec["uid"]?.stringValue ?? "", groups: groups), spec, target)
        case "selfsubjectrulesreviews": status = try rulesReview(for: user, spec)
        default: throw APIError.notFoundPath(request.path)
        }
        var answer = body.objectValue ?? [:]
        answer["apiVersion"] = .string(target.type.apiVersion)
        answer["kind"] = .string(target.type.kind)
        var metadata = answer["metadata"]?.objectValue ?? [:]
        metadata["creationTimestamp"] = .null
        answer["metadata"] = .object(metadata)
        answer["spec"] = spec
        answer["status"] = status
        return json(201, .object(answer))
    }

    /// The body, which must be the kind the path names (an empty body is an empty spec).
    private func reviewBody(_ request: Request, _ target: ResourceRoute) throws -> JSON {
        let body = try WriteRequest(request, requireBody: false).body ?? ["apiVersion": .string(target.type.apiVersion), "kind": .string(target.type.kind)]
        guard body.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON object, a \(target.type.kind)") }
        if let kind = body["kind"]?.stringValue, kind != target.type.kind {
            throw APIError.badRequest("the body is a \(kind), but \(request.path) takes a \(target.type.kind)")
        }
        return body
    }

    private func invalidReview(_ target: ResourceRoute, _ causes: [APIError.Cause]) -> APIError {
        APIError.invalid(target.type, "", causes)
    }

    /// TokenReview: whether a token authenticates, for which of the asked audiences, as whom.
    private func tokenReview(_ spec: JSON) -> JSON {
        let token = spec["token"]?.stringValue ?? ""
        let asked = spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let audiences = asked.isEmpty ? ServiceAccountTokenIssuer.apiAudiences : asked
        if !token.isEmpty, Crypto.constantTimeEquals(Array(token.utf8), Array(adminToken.utf8)) {
            return ["authenticated": true, "user": UserInfo.admin.json, "audiences": .strings(audiences)]
        }
        switch tokens.authenticate(token, audiences: audiences) {
        case .success(let (user, matched)): return ["authenticated": true, "user": user.json, "audiences": .strings(matched)]
        case .failure(let rejection): return ["user": [:], "error": .string(rejection.message)]
        }
    }

    /// SubjectAccessReview and its self and local forms: `allowed`, and RBAC's reason when it is.
    private func accessReview(for user: UserInfo, _ spec: JSON, _ target: ResourceRoute) throws -> JSON {
        let attributes: RequestAttributes
        switch (spec["resourceAttributes"], spec["nonResourceAttributes"]) {
        case (let resource?, nil):
            func field(_ key: String) -> String { resource[key]?.stringValue ?? "" }
            var namespace = field("namespace")
            if target.type.plural == "localsubjectaccessreviews" {
                let local = target.namespace ?? ""
                guard namespace.isEmpty || namespace == local else {
                    throw invalidReview(target, [APIError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \"\(namespace)\": must match metadata.namespace", field: "spec.resourceAttributes.namespace")])
                }
                namespace = local
            }
            attributes = .resource(verb: field("verb"), group: field("group"), version: field("version"), resource: field("resource"),
                                   subresource: field("subresource"), namespace: namespace, name: field("name"))
        case (nil, let path?):
            attributes = .nonResource(verb: path["verb"]?.stringValue ?? "", path: path["path"]?.stringValue ?? "")
        default:
            throw invalidReview(target, [APIError.Cause(reason: "FieldValueInvalid",
                                                        message: "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                                                        field: "spec.resourceAttributes")])
        }
        let decision = try authorizer.authorize(user, attributes)
        var status: JSONObject = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return .object(status)
    }

    /// SelfSubjectRulesReview (`kubectl auth can-i --list`): the rules that apply in a namespace.
    private func rulesReview(for user: UserInfo, _ spec: JSON) throws -> JSON {
        guard let namespace = spec["namespace"]?.stringValue, !namespace.isEmpty else {
            throw APIError.badRequest("no namespace on request: set spec.namespace (kubectl auth can-i --list -n NAMESPACE)")
        }
        let rules = try authorizer.policy().rules(for: user, namespace: namespace)
        var resourceRules = rules.resource.map(\.json)
        if user.groups.contains(Groups.masters), !rules.resource.contains(where: { $0.verbs == ["*"] && $0.apiGroups == ["*"] && $0.resources == ["*"] }) {
            resourceRules.insert(PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]).json, at: 0)
        }
        return ["resourceRules": .array(resourceRules), "nonResourceRules": .array(rules.nonResource.map(\.json)), "incomplete": false]
    }

    // MARK: - TokenRequest

    /// `kubectl create token`: a JWT for the ServiceAccount, optionally bound to a Pod or Secret of
    /// its namespace, valid for `expirationSeconds` (default one hour, at least ten minutes).
    func tokenRequest(_ target: ResourceRoute, _ request: Request) throws -> Response {
        guard request.method == "POST", let name = target.name, let namespace = target.namespace else {
            throw APIError.methodNotAllowed(request.method, request.path)
        }
        let tokenRequest = ResourceType(group: "authentication.k8s.io", version: "v1", plural: "tokenrequests", singular: "", kind: "TokenRequest", namespaced: true)
        let body = try WriteRequest(request, requireBody: false).body ?? [:]
        var spec = body["spec"]?.objectValue ?? [:]
        let seconds: Int
        switch spec["expirationSeconds"] {
        case nil, .null?: seconds = ServiceAccountTokenIssuer.defaultExpirationSeconds
        case .int(let value)?: seconds = value
        default: throw APIError.badRequest("spec.expirationSeconds must be an integer number of seconds")
        }
        func invalid(_ message: String, _ field: String) -> APIError {
            APIError.invalid(tokenRequest, name, [APIError.Cause(reason: "FieldValueInvalid", message: message, field: field)])
        }
        if seconds < 600 { throw invalid("Invalid value: \(seconds): may not specify a duration less than 10 minutes", "spec.expirationSeconds") }
        if seconds > 1 << 32 { throw invalid("Invalid value: \(seconds): may not specify a duration larger than 2^32 seconds", "spec.expirationSeconds") }
        let audiences = spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let reference = spec["boundObjectRef"].flatMap { $0 == .null ? nil : $0 }
        let (account, binding) = try store.read { transaction -> (JSON, ServiceAccountTokenIssuer.BoundObject?) in
            guard let account = try transaction.get(.serviceAccounts, namespace: namespace, name: name) else {
                throw APIError.notFound(.serviceAccounts, name)
            }
            guard let reference else { return (account, nil) }
            let kind = reference["kind"]?.stringValue ?? ""
            let objectName = reference["name"]?.stringValue ?? ""
            let type: ResourceType
            switch kind {
            case "Pod": type = .pods
            case "Secret": type = .secrets
            default: throw invalid("Unsupported value: \"\(kind)\": supported values: \"Pod\", \"Secret\"", "spec.boundObjectRef.kind")
            }
            guard let object = try transaction.get(type, namespace: namespace, name: objectName) else { throw APIError.notFound(type, objectName) }
            let uid = object.value(at: ["metadata", "uid"])?.stringValue ?? ""
            if let asked = reference["uid"]?.stringValue, !asked.isEmpty, asked != uid {
                throw APIError(code: 409, reason: "Conflict",
                               message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(objectName)\": the UID in the bound object reference (\(asked)) does not match the UID in record. The object might have been deleted and then recreated",
                               details: APIError.details(type, name: objectName))
            }
            return (account, ServiceAccountTokenIssuer.BoundObject(kind: kind, name: objectName, uid: uid))
        }
        let (token, expiration) = try tokens.issue(account: account, audiences: audiences, expirationSeconds: seconds, binding: binding)
        spec["audiences"] = .strings(audiences.isEmpty ? ServiceAccountTokenIssuer.apiAudiences : audiences)
        spec["expirationSeconds"] = .int(seconds)
        if spec["boundObjectRef"] == nil { spec["boundObjectRef"] = .null }
        if let binding, var bound = reference?.objectValue {
            bound["uid"] = .string(binding.uid)
            spec["boundObjectRef"] = .object(bound)
        }
        let answer: JSON = [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .null],
            "spec": .object(spec),
            "status": ["token": .string(token), "expirationTimestamp": .string(WriteRequest.timestamp(expiration))],
        ]
        return json(201, answer)
    }
}
