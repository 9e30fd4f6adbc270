import Model

/// A failed request, answered as a Kubernetes `Status` object with the same code, reason and causes: Model's
/// `KubeStatus`, the type the client decodes too. The name stays for the server's code.
typealias APIError = KubeStatus

extension KubeStatus {
    /// The Status body to answer with.
    var status: JSON { json }

    static func details(_ type: ResourceType, name: String) -> JSONObject {
        var details: JSONObject = ["name": .string(name)]
        if !type.group.isEmpty { details["group"] = .string(type.group) }
        details["kind"] = .string(type.plural)
        return details
    }

    static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(type.qualifiedName) \"\(name)\" not found", details: details(type, name: name))
    }

    static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(type.qualifiedName) \"\(name)\" already exists", details: details(type, name: name))
    }

    static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
                 details: details(type, name: name))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func invalid(_ type: ResourceType, _ name: String, _ causes: [Cause]) -> APIError {
        let summary = causes.map { "\($0.field): \($0.message)" }
        let list = summary.count == 1 ? summary[0] : "[" + summary.joined(separator: ", ") + "]"
        var details = details(type, name: name)
        details["kind"] = .string(type.kind)
        let kindName = type.group.isEmpty ? type.kind : "\(type.kind).\(type.group)"
        return APIError(code: 422, reason: "Invalid", message: "\(kindName) \"\(name)\" is invalid: \(list)", details: details, causes: causes)
    }

    static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static func methodNotAllowed(_ method: String, _ path: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow the method \(method) on \(path)")
    }

    static func notFoundPath(_ path: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(path)); run `kubectl api-resources` to list what this cluster serves")
    }
}
