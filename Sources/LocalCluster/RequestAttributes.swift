import HTTPServer
import Model

/// What a request asks to do, in the terms RBAC rules are written in (kube-apiserver's RequestInfo).
struct RequestAttributes: Sendable, Hashable {
    var verb: String
    /// Resource requests name an API group and resource; the others a path (`/version`, `/apis`).
    var isResourceRequest: Bool
    var apiGroup = ""
    var apiVersion = ""
    var resource = ""
    var subresource = ""
    var namespace = ""
    var name = ""
    var path = ""

    static func resource(verb: String, group: String, version: String = "", resource: String, subresource: String = "",
                         namespace: String = "", name: String = "") -> RequestAttributes {
        RequestAttributes(verb: verb, isResourceRequest: true, apiGroup: group, apiVersion: version, resource: resource,
                          subresource: subresource, namespace: namespace, name: name)
    }

    static func nonResource(verb: String, path: String) -> RequestAttributes {
        RequestAttributes(verb: verb, isResourceRequest: false, path: path)
    }

}

extension RequestAttributes {
    /// Verbs as kube-apiserver maps them: GET is get, list or watch (`?watch=true`), DELETE of a
    /// collection is deletecollection; a namespace's own path is in that namespace.
    init(_ request: Request, route: Route) {
        guard case .resource(let target) = route else {
            self = .nonResource(verb: request.method.lowercased(), path: request.path)
            return
        }
        let verb = Self.verb(request, named: target.name != nil)
        var namespace = target.namespace ?? ""
        if target.type == .namespaces, let name = target.name { namespace = name }
        self = .resource(verb: verb, group: target.type.group, version: target.type.version, resource: target.type.plural,
                         subresource: target.subresource ?? "", namespace: namespace, name: target.name ?? "")
    }

    /// A path the server does not serve, read the way kube-apiserver reads any `/api` or `/apis`
    /// path, so that it is authorized (403) before it is found missing (404), as there.
    init(unresolved request: Request) {
        let segments = request.path.split(separator: "/").map(String.init)
        var rest: ArraySlice<String>
        var group = ""
        var version = ""
        switch segments.first {
        case "api" where segments.count >= 3: (version, rest) = (segments[1], segments.dropFirst(2))
        case "apis" where segments.count >= 4: (group, version, rest) = (segments[1], segments[2], segments.dropFirst(3))
        default:
            self = .nonResource(verb: request.method.lowercased(), path: request.path)
            return
        }
        var namespace = ""
        if rest.first == "namespaces", rest.count >= 3 {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        let parts = Array(rest)
        let name = parts.count > 1 ? parts[1] : ""
        self = .resource(verb: Self.verb(request, named: !name.isEmpty), group: group, version: version, resource: parts.first ?? "", subresource: parts.count > 2 ? parts[2] : "",
                         namespace: namespace, name: name)
    }

    private static func verb(_ request: Request, named: Bool) -> String {
        switch request.method {
        case "GET", "HEAD": return ["1", "true"].contains(request.query["watch"] ?? "") ? "watch" : (named ? "get" : "list")
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return named ? "delete" : "deletecollection"
        default: return request.method.lowercased()
        }
    }

    /// `sessions.ambient.ai`, `pods` (the group-qualified resource of Forbidden messages).
    var groupResource: String { apiGroup.isEmpty ? resource : "\(resource).\(apiGroup)" }

    /// kube-apiserver's wording of a denial: `User "x" cannot list resource "sessions" in API group
    /// "ambient.ai" in the namespace "y"`, prefixed with what was refused.
    func forbidden(_ user: UserInfo, reason: String = "") -> APIError {
        var why: String
        if !isResourceRequest {
            why = "User \"\(user.name)\" cannot \(verb) path \"\(path)\""
        } else {
            let combined = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
            let scope = namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(namespace)\""
            why = "User \"\(user.name)\" cannot \(verb) resource \"\(combined)\" in API group \"\(apiGroup)\" \(scope)"
        }
        if !reason.isEmpty { why += ": " + reason }
        let message: String
        var details: [String: String] = [:]
        if !isResourceRequest {
            message = "forbidden: " + why
        } else {
            message = (name.isEmpty ? groupResource : "\(groupResource) \"\(name)\"") + " is forbidden: " + why
            details = ["name": name, "group": apiGroup, "kind": resource]
        }
        var object = JSONObject()
        for key in ["name", "group", "kind"] where !(details[key] ?? "").isEmpty { object[key] = .string(details[key]!) }
        return APIError(code: 403, reason: "Forbidden", message: message, details: details.isEmpty ? nil : object)
    }
}
