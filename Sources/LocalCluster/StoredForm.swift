import Model

/// Kinds kept in another resource's rows (`ResourceType.storedAs`) are converted on the way in and
/// out of the store, so every other part of the server sees the requested version only. Kubernetes
/// stores `events.k8s.io/v1` Events as core `v1` Events; the field renames are its conversion's.
enum StoredForm {
    /// events.k8s.io/v1 name → core v1 name.
    private static let eventFields: [(String, String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    /// The object as stored, from the form `type` serves.
    static func stored(_ object: JSON, as type: ResourceType) -> JSON {
        guard type.storedAs == "events" else { return object }
        return renamed(object, eventFields, apiVersion: "v1")
    }

    /// The object as `type` serves it, from its stored form.
    static func served(_ object: JSON, as type: ResourceType) -> JSON {
        guard type.storedAs == "events" else { return object }
        return renamed(object, eventFields.map { ($0.1, $0.0) }, apiVersion: type.apiVersion)
    }

    private static func renamed(_ object: JSON, _ renames: [(String, String)], apiVersion: String) -> JSON {
        guard let fields = object.objectValue else { return object }
        var result = JSONObject()
        let map = Dictionary(uniqueKeysWithValues: renames)
        for (key, value) in fields.pairs { result[map[key] ?? key] = value }
        if result["apiVersion"] != nil { result["apiVersion"] = .string(apiVersion) }
        return .object(result)
    }
}
