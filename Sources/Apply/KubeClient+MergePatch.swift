import Foundation
import Model

extension KubeClient {
    /// A JSON merge patch (RFC 7386) of the object itself, e.g. an intent in its `spec`; with
    /// `metadata.resourceVersion` in the patch the server applies it only at that version (409 Conflict
    /// otherwise), a compare-and-swap. Returns the object as stored.
    public func mergePatch(_ reference: ObjectReference, patch: JSONObject) throws(KubeError) -> JSONObject {
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name)
        let response = try send("PATCH", path, body: JSON.object(patch).compactBytes, contentType: "application/merge-patch+json",
                                step: "patch", object: reference)
        return try decodeObject(response, step: "patch", object: reference)
    }
}
