import Foundation
import Model

/// Turns what a client sent into what is stored: server-owned metadata, status kept or taken as the
/// write's scope says, generation, defaults, and schema validation for custom resources.
struct ObjectAdmission {
    let type: ResourceType
    let scope: WriteScope
    let now: String
    let fieldValidation: FieldValidation
    /// Unknown fields pruned (fieldValidation=Warn); sent back as Warning headers.
    var warnings: [String] = []

    init(type: ResourceType, scope: WriteScope, now: String, fieldValidation: FieldValidation) {
        self.type = type
        self.scope = scope
        self.now = now
        self.fieldValidation = fieldValidation
    }

    mutating func admit(_ candidate: JSON, old: JSON?) throws(APIError) -> JSON {
        var object = candidate
        switch scope {
        case .status:
            guard var merged = old else { throw APIError.notFound(type, candidate.name) }
            merged.setValue(candidate["status"], at: ["status"])
            merged.setValue(candidate.value(at: ["metadata", "resourceVersion"]), at: ["metadata", "resourceVersion"])
            object = merged
        case .main(let hasStatusSubresource):
            if hasStatusSubresource { object.setValue(old?["status"], at: ["status"]) }
        }
        object = try identified(object)
        let name = object.name
        object.setValue(old?.value(at: ["metadata", "uid"]) ?? .string(UUID().uuidString.lowercased()), at: ["metadata", "uid"])
        object.setValue(old?.value(at: ["metadata", "creationTimestamp"]) ?? .string(now), at: ["metadata", "creationTimestamp"])
        object.setValue(old?.value(at: ["metadata", "deletionTimestamp"]), at: ["metadata", "deletionTimestamp"])
        object.setValue(old?.value(at: ["metadata", "deletionGracePeriodSeconds"]), at: ["metadata", "deletionGracePeriodSeconds"])
        object.setValue(.int(generation(of: object, old: old)), at: ["metadata", "generation"])
        if old == nil { try validateName(name) }
        if type == .namespaces { object = defaultNamespace(object) }
        if old == nil, type == .jobs { object = try JobDefaults.admitJob(object) }
        if old == nil, type == .pods { object = try JobDefaults.admitPod(object) }
        if type.plural == "secrets", type.group.isEmpty { object = normalizedSecret(object) }
        if ["secrets", "configmaps"].contains(type.plural), type.group.isEmpty { try refuseImmutableChange(object, old: old) }
        if type == .customResourceDefinitions { object = try establishedDefinition(object) }
        if let schema = type.schema {
            object = try validated(object, schema: schema, definitions: nil)
        } else if let schema = BuiltInSchema.shared.schema(for: type) {
            object = try validated(object, schema: schema, definitions: BuiltInSchema.shared.definitions)
        }
        return canonical(object)
    }

    /// The object with apiVersion and kind first, checked against the URL's resource.
    private func identified(_ object: JSON) throws(APIError) -> JSON {
        guard var fields = object.objectValue else { throw APIError.badRequest("the request body must be a JSON object, a \(type.kind)") }
        if let apiVersion = fields["apiVersion"]?.stringValue, apiVersion != type.apiVersion {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
        }
        if let kind = fields["kind"]?.stringValue, kind != type.kind {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(type.kind)) for \(type.qualifiedName)")
        }
        fields = fields.removing(["apiVersion", "kind"])
        return .object(JSONObject([("apiVersion", .string(type.apiVersion)), ("kind", .string(type.kind))] + fields.pairs.map { ($0.0, $0.1) }))
    }

    /// 1 at creation, then one more each time anything outside metadata and status changes.
    private func generation(of object: JSON, old: JSON?) -> Int {
        guard let old else { return 1 }
        guard case .int(let previous)? = old.value(at: ["metadata", "generation"]) else { return 1 }
        let ignored: Set<String> = ["metadata", "status"]
        return object.objectValue?.removing(ignored) == old.objectValue?.removing(ignored) ? previous : previous + 1
    }

    private func validateName(_ name: String) throws(APIError) {
        if name.isEmpty {
            throw APIError.invalid(type, name, [APIError.Cause(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
        }
        // RBAC objects are named by path segment, as Kubernetes validates them (`system:admin` is a ClusterRole).
        if type.group == "rbac.authorization.k8s.io" {
            guard name != ".", name != "..", !name.contains("/"), !name.contains("%") else {
                throw APIError.invalid(type, name, [APIError.Cause(reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(name)\": may not be '.' or '..' and may not contain '/' or '%'", field: "metadata.name")])
            }
            return
        }
        let label = type == .namespaces
        let limit = label ? 63 : 253
        if name.isEmpty {
            throw APIError.invalid(type, name, [APIError.Cause(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
        }
        if name.utf8.count > limit || !Self.isRFC1123(name, dots: !label) {
            let what = label ? "a lowercase RFC 1123 label" : "a lowercase RFC 1123 subdomain"
            let allowed = label ? "'-'" : "'-' or '.'"
            throw APIError.invalid(type, name, [APIError.Cause(reason: "FieldValueInvalid",
                message: "Invalid value: \"\(name)\": \(what) must consist of lower case alphanumeric characters, \(allowed), must start and end with an alphanumeric character, and be at most \(limit) characters",
                field: "metadata.name")])
        }
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (with dots for a subdomain); by hand, as it runs on every create.
    private static func isRFC1123(_ name: String, dots: Bool) -> Bool {
        let bytes = Array(name.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D || (dots && $0 == 0x2E) }
    }

    private func defaultNamespace(_ namespace: JSON) -> JSON {
        var namespace = namespace
        if namespace.value(at: ["spec", "finalizers"]) == nil { namespace.setValue(["kubernetes"], at: ["spec", "finalizers"]) }
        namespace.setValue(.string(namespace.isDeleting ? "Terminating" : "Active"), at: ["status", "phase"])
        return namespace
    }

    /// `stringData` is write-only: its entries move into `data` (base64), as the API server does; the
    /// type defaults to Opaque.
    private func normalizedSecret(_ secret: JSON) -> JSON {
        var secret = secret
        if let strings = secret["stringData"]?.objectValue {
            var data = secret["data"]?.objectValue ?? JSONObject()
            for (key, value) in strings.pairs { data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString()) }
            secret.setValue(.object(data), at: ["data"])
            secret.setValue(nil, at: ["stringData"])
        }
        if secret["type"] == nil { secret.setValue("Opaque", at: ["type"]) }
        return secret
    }

    /// A ConfigMap or Secret marked `immutable: true` keeps its data (and stays immutable).
    private func refuseImmutableChange(_ object: JSON, old: JSON?) throws(APIError) {
        guard let old, old["immutable"] == .bool(true) else { return }
        for field in ["data", "binaryData", "immutable"] where object[field] != old[field] {
            throw APIError.invalid(type, object.name, [APIError.Cause(reason: "FieldValueForbidden",
                message: "Forbidden: field is immutable when `immutable` is set", field: field)])
        }
    }

    /// A CRD is established at once: its names are accepted and its kinds served on the next request.
    private func establishedDefinition(_ crd: JSON) throws(APIError) -> JSON {
        var crd = crd
        guard let group = crd.value(at: ["spec", "group"])?.stringValue, let plural = crd.value(at: ["spec", "names", "plural"])?.stringValue,
              crd.value(at: ["spec", "names", "kind"])?.stringValue != nil, !(crd.value(at: ["spec", "versions"])?.arrayValue ?? []).isEmpty else {
            throw APIError.invalid(type, crd.name, [APIError.Cause(reason: "FieldValueRequired", message: "Required value: spec.group, spec.names.plural, spec.names.kind and at least one of spec.versions are required", field: "spec")])
        }
        if crd.name != "\(plural).\(group)" {
            throw APIError.invalid(type, crd.name, [APIError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \"\(crd.name)\": must be spec.names.plural+\".\"+spec.group", field: "metadata.name")])
        }
        let condition = { (name: String, reason: String) -> JSON in
            ["type": .string(name), "status": "True", "lastTransitionTime": .string(now), "reason": .string(reason), "message": ""]
        }
        crd.setValue(["conditions": [condition("NamesAccepted", "NoConflicts"), condition("Established", "InitialNamesAccepted")],
                      "acceptedNames": crd.value(at: ["spec", "names"]) ?? .null,
                      "storedVersions": .strings((crd.value(at: ["spec", "versions"])?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })],
                     at: ["status"])
        return crd
    }

    /// Custom resources against their CRD's schema; built-in kinds (`definitions` set) against the
    /// official schema, a value Go's decoder would refuse answered 400 as kube-apiserver words it.
    private mutating func validated(_ object: JSON, schema: JSON, definitions: JSONObject?) throws(APIError) -> JSON {
        var validator = SchemaValidator(definitions: definitions)
        let pruned = validator.validate(object, schema: schema)
        if let decodeError = validator.decodeErrors.first {
            throw APIError.badRequest("\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): \(decodeError)")
        }
        if !validator.unknownFields.isEmpty {
            let unknown = validator.unknownFields.map { "unknown field \"\($0)\"" }
            switch fieldValidation {
            case .strict: throw APIError.badRequest("strict decoding error: \(unknown.joined(separator: ", "))")
            case .warn: warnings += unknown
            case .ignore: break
            }
        }
        if !validator.causes.isEmpty { throw APIError.invalid(type, object.name, validator.causes) }
        return pruned
    }

    /// Metadata keys in the order Kubernetes writes them, whatever order the client used.
    private func canonical(_ object: JSON) -> JSON {
        guard let metadata = object["metadata"]?.objectValue else { return object }
        let order = ["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                     "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields"]
        var sorted = JSONObject()
        for key in order where metadata[key] != nil { sorted[key] = metadata[key] }
        for (key, value) in metadata.pairs where sorted[key] == nil { sorted[key] = value }
        var result = object
        result.setValue(.object(sorted), at: ["metadata"])
        return result
    }
}
