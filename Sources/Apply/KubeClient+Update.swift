import Model

extension KubeClient {
    /// Replaces the object (PUT), guarded by the `metadata.resourceVersion` it carries: if someone wrote it
    /// since that version was read, the server answers 409 Conflict (`isStaleVersion`) and nothing changes.
    public func update(_ object: JSONObject) throws(KubeError) -> JSONObject {
        let reference = Manifest(owner: "", object: object).reference
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name)
            + "?fieldManager=\(escape(fieldManager))"
        let response = try send("PUT", path, body: JSON.object(object).compactBytes, contentType: "application/json",
                                step: "update", object: reference)
        return try decodeObject(response, step: "update", object: reference)
    }
}

extension KubeError {
    /// An update whose resourceVersion is no longer the stored one (409 Conflict, "the object has been modified").
    public var isStaleVersion: Bool { status?.code == 409 && status?.reason == "Conflict" && !isConflict }
}
