import Model

/// The official Kubernetes schemas of the built-in kinds served (generated into BuiltInSchemas.swift),
/// parsed once: a root `$ref` per kind and the definitions the refs name.
struct BuiltInSchema: Sendable {
    let definitions: JSONObject
    private let roots: [String: String]

    static let shared = BuiltInSchema(text: BuiltInSchemas.document)

    init(text: String) {
        // The generated document is checked in; failing to parse it is a build defect, caught by every test.
        let document = (try? JSON(parsing: text)) ?? .null
        definitions = document["definitions"]?.objectValue ?? JSONObject()
        var roots: [String: String] = [:]
        for (key, value) in document["kinds"]?.objectValue?.pairs ?? JSONObject().pairs { roots[key] = value.stringValue }
        self.roots = roots
    }

    /// `{"$ref": "io.k8s.api.core.v1.ConfigMap"}` for a built-in kind, nil for kinds without an official schema.
    func schema(for type: ResourceType) -> JSON? {
        roots["\(type.apiVersion)/\(type.kind)"].map { ["$ref": .string($0)] }
    }

    /// The definition a `$ref` names.
    func definition(_ name: String) -> JSON? { definitions[name] }
}
