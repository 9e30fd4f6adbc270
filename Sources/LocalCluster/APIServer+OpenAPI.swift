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
        }
        return ["openapi": "3.0.0", "info": ["title": "Tenantry local cluster", "version": "v1.32.0"],
                "paths": .object(paths), "components": ["schemas": .object(openAPISchemas(for: types, refPrefix: "#/components/schemas/"))]]
    }

    /// The schemas of `types` by definition name, as both OpenAPI documents carry them: a built-in kind
    /// as its official definition (and every definition those refer to), a custom kind as its CRD's
    /// schema; each kind's root marked with `x-kubernetes-group-version-kind`.
    func openAPISchemas(for types: [ResourceType], refPrefix: String) -> JSONObject {
        var schemas = JSONObject()
        var referencesBuiltIns = false
        for type in types {
            let gvk: JSON = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            if let name = BuiltInSchema.shared.schema(for: type)?["$ref"]?.stringValue, let definition = BuiltInSchema.shared.definition(name) {
                var root = Self.documented(definition, refPrefix: refPrefix).objectValue ?? JSONObject()
                root["x-kubernetes-group-version-kind"] = [gvk]
                schemas[name] = .object(root)
                referencesBuiltIns = true
            } else {
                var schema = type.schema?.objectValue ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
                schema["x-kubernetes-group-version-kind"] = [gvk]
                let reversedGroup = type.group.split(separator: ".").reversed().joined(separator: ".")
                schemas[(reversedGroup.isEmpty ? "io.k8s.api.core" : reversedGroup) + ".\(type.version).\(type.kind)"] = .object(schema)
            }
        }
        if referencesBuiltIns {
            for (name, definition) in BuiltInSchema.shared.definitions.pairs where schemas[name] == nil {
                schemas[name] = Self.documented(definition, refPrefix: refPrefix)
            }
        }
        return schemas
    }

    /// A trimmed official definition as OpenAPI spells it: refs with the document's prefix, quantities
    /// as strings, int-or-string with its format.
    private static func documented(_ schema: JSON, refPrefix: String) -> JSON {
        switch schema {
        case .object(let object):
            if let name = object["$ref"]?.stringValue { return ["$ref": .string(refPrefix + name)] }
            if object["x-types"] != nil { return ["type": "string", "format": "quantity"] }
            var result = JSONObject()
            for (key, value) in object.pairs {
                switch key {
                case "properties", "additionalProperties", "items":
                    if key == "properties", let properties = value.objectValue {
                        var documentedProperties = JSONObject()
                        for (name, child) in properties.pairs { documentedProperties[name] = documented(child, refPrefix: refPrefix) }
                        result[key] = .object(documentedProperties)
                    } else {
                        result[key] = documented(value, refPrefix: refPrefix)
                    }
                default: result[key] = value
                }
            }
            if object["x-kubernetes-int-or-string"] == .bool(true) { result["format"] = "int-or-string" }
            return .object(result)
        default:
            return schema
        }
    }

    /// `/openapi/v2`: every served kind's schema under `definitions` (no paths; kubectl reads the
    /// definitions and their group-version-kinds). client-go asks for the gnostic protobuf form; other
    /// clients get JSON.
    func openAPIv2Document() -> JSON {
        ["swagger": "2.0", "info": ["title": "Tenantry local cluster", "version": "v1.32.0"], "paths": [:],
         "definitions": .object(openAPISchemas(for: registry.all, refPrefix: "#/definitions/"))]
    }

    private var groupVersions: [(String, String)] {
        var seen: [(String, String)] = []
        for type in registry.all where !seen.contains(where: { $0 == (type.group, type.version) }) {
            seen.append((type.group, type.version))
        }
        return seen
    }
}
