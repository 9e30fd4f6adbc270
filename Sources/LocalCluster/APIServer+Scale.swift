import Foundation
import HTTPServer
import Model

/// Where a CRD's scale subresource reads and writes (`subresources.scale`).
struct ScalePaths: Sendable, Hashable {
    var specReplicas: [String]
    var statusReplicas: [String]
    var labelSelector: [String]?

    init?(_ definition: JSON?) {
        guard let definition, let spec = definition["specReplicasPath"]?.stringValue, let status = definition["statusReplicasPath"]?.stringValue else { return nil }
        func path(_ text: String) -> [String] { text.split(separator: ".").map(String.init) }
        specReplicas = path(spec)
        statusReplicas = path(status)
        labelSelector = definition["labelSelectorPath"]?.stringValue.map(path)
    }
}

/// The scale subresource of custom resources: an autoscaling/v1 Scale read from and written to the
/// paths the CRD names, so `kubectl scale` (a merge patch of `spec.replicas`) works on them.
extension APIServer {
    private static let scaleType = ResourceType(group: "autoscaling", version: "v1", plural: "scale", singular: "scale", kind: "Scale", namespaced: true)

    func scale(_ target: ResourceRoute, name: String, _ request: Request, paths: ScalePaths) throws -> Response {
        if request.method == "GET" { return json(200, Self.scaleObject(try get(target, name: name), paths)) }
        guard ["PUT", "PATCH"].contains(request.method) else { throw APIError.methodNotAllowed(request.method, request.path) }
        let write = try WriteRequest(request, requireBody: true)
        let body = write.body!
        let contentType = (request.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let scope = WriteScope.main(hasStatusSubresource: target.type.hasStatusSubresource)
        var admission = ObjectAdmission(type: target.type, scope: scope, now: write.now, fieldValidation: write.fieldValidation)
        var previousVersion: String?
        let stored = try store.write(dryRun: write.dryRun) { transaction -> JSON in
            guard let old = try transaction.get(target.type, namespace: target.namespace ?? "", name: name) else { throw APIError.notFound(target.type, name) }
            previousVersion = old.resourceVersion
            let current = Self.scaleObject(old, paths)
            let wanted: JSON
            switch (request.method, contentType) {
            case ("PUT", _): wanted = body
            case (_, "application/merge-patch+json"), (_, "application/strategic-merge-patch+json"): wanted = mergePatched(current, with: body)
            case (_, "application/json-patch+json"): wanted = try JSONPatch(body).apply(to: current)
            default:
                throw APIError(code: 415, reason: "UnsupportedMediaType",
                               message: "the scale subresource takes application/merge-patch+json or application/json-patch+json patches, not \"\(contentType)\"")
            }
            if let version = wanted.resourceVersion, !version.isEmpty, version != old.resourceVersion { throw APIError.conflict(target.type, name) }
            guard case .int(let replicas)? = wanted.value(at: ["spec", "replicas"]), replicas >= 0 else {
                let given = wanted.value(at: ["spec", "replicas"])?.compactText ?? "null"
                throw APIError.invalid(Self.scaleType, name, [APIError.Cause(reason: "FieldValueInvalid",
                    message: "Invalid value: \(given): must be greater than or equal to 0", field: "spec.replicas")])
            }
            var object = old
            object.setValue(.int(replicas), at: paths.specReplicas)
            var admitted = try admission.admit(object, old: old)
            let manager = FieldManager(manager: write.manager, apiVersion: target.type.apiVersion, scope: scope, now: write.now)
            admitted.setManagedFields(manager.recordUpdate(old: old, new: admitted))
            return try commitIfChanged(target.type, old: old, admitted, transaction)
        }
        return json(200, Self.scaleObject(answer(stored, dryRun: write.dryRun, previousVersion: previousVersion), paths), headers: warningHeaders(admission.warnings))
    }

    private static func scaleObject(_ object: JSON, _ paths: ScalePaths) -> JSON {
        var metadata = JSONObject()
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = object.value(at: ["metadata", key]) { metadata[key] = value }
        }
        var status: JSONObject = ["replicas": object.value(at: paths.statusReplicas) ?? .int(0)]
        if let selector = paths.labelSelector.flatMap({ object.value(at: $0) }) { status["selector"] = selector }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
                "spec": ["replicas": object.value(at: paths.specReplicas) ?? .int(0)], "status": .object(status)]
    }
}
