import Model

/// The OpenAPI v3 documents kubectl fetches before `apply`: one per group-version. Each PATCH
/// operation declares the `fieldValidation` parameter, which tells kubectl to leave validation to the
/// server; custom kinds carry their CRD schema, so `kubectl explain` works on them.
extension APIServer {
    var openAPIIndexDocument: JSON {
        var paths = JSONObject()
        for (group, version) in groupVersions {
            let key = group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)")]
        }
        return ["paths": .object(paths)]
    }

    func openAPIDocument(group: String, version: String) throws(APIError) -> JSON {
        let types = registry.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { throw APIError.notFoundPath("/openapi/v3/\(group.isEmpty ? "api" : "apis/\(group)")/\(version)") }
        var paths = JSONObject()
        var schemas = JSONObject()
        for type in types {
            let gvk: JSON = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let prefix = type.group.isEmpty ? "/api/\(type.version)" : "/apis/\(type.group)/\(type.version)"
            let collection = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)" : "\(prefix)/\(type.plural)"
            let parameters: JSON = .array(["dryRun", "fieldManager", "fieldValidation", "force"].map { name in
                ["name": .string(name), "in": "query", "schema": ["type": name == "force" ? "boolean" : "string"]]
            })
            let operation: JSON = ["x-kubernetes-group-version-kind": gvk, "parameters": parameters,
                                   "responses": ["200": ["description": "OK"]]]
            paths[collection + "/{name}"] = ["get": operation, "put": operation, "patch": operation, "delete": operation]
            paths[collection] = ["get": operation, "post": operation]
            var schema = type.schema?.objectValue ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["x-kubernetes-group-version-kind"] = [gvk]
            let reversedGroup = type.group.split(separator: ".").reversed().joined(separator: ".")
            schemas[(reversedGroup.isEmpty ? "io.k8s.api.core" : reversedGroup) + ".\(type.version).\(type.kind)"] = .object(schema)
        }
        return ["openapi": "3.0.0", "info": ["title": "Tenantry local cluster", "version": "v1.32.0"],
                "paths": .object(paths), "components": ["schemas": .object(schemas)]]
    }

    private var groupVersions: [(String, String)] {
        var seen: [(String, String)] = []
        for type in registry.all where !seen.contains(where: { $0 == (type.group, type.version) }) {
            seen.append((type.group, type.version))
        }
        return seen
    }
}
