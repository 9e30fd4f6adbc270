import Foundation
import Model

/// What deleting an object does to its dependents (`DeleteOptions.propagationPolicy`).
public enum PropagationPolicy: String, Sendable, Hashable, CaseIterable {
    /// The object goes at once; the garbage collector deletes its dependents afterwards.
    case background = "Background"
    /// The object stays (with `deletionTimestamp` and the `foregroundDeletion` finalizer) until its blocking
    /// dependents are gone.
    case foreground = "Foreground"
    /// The object goes; its dependents stay, their ownerReferences to it removed.
    case orphan = "Orphan"
}

extension KubeClient {
    /// Creates the object (POST to its collection) and returns it as stored. An object that exists already
    /// is a `KubeError` whose `isAlreadyExists` is true.
    public func create(_ object: JSONObject, dryRun: Bool = false) throws(KubeError) -> JSONObject {
        let reference = Manifest(owner: "", object: object).reference
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        var query = ["fieldManager=\(escape(fieldManager))"]
        if dryRun { query.append("dryRun=All") }
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "?" + query.joined(separator: "&")
        let response = try send("POST", path, body: JSON.object(object).compactBytes, contentType: "application/json",
                                step: "create", object: reference, dryRun: dryRun)
        return try decodeObject(response, step: "create", object: reference)
    }

    /// Merges `status` into the object's `status` through the `/status` subresource (a JSON merge patch,
    /// RFC 7386: keys given replace, `null` removes, the rest stays) and returns the object as stored.
    /// Only kinds that serve the subresource take it (a 404 otherwise). Sent as `fieldManager`, so the object's
    /// managedFields name who wrote its status (without it the server names the User-Agent).
    public func patchStatus(_ reference: ObjectReference, status: JSONObject) throws(KubeError) -> JSONObject {
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name) + "/status"
            + "?fieldManager=\(escape(fieldManager))"
        let body = JSON.object(["status": .object(status)]).compactBytes
        let response = try send("PATCH", path, body: body, contentType: "application/merge-patch+json", step: "status patch", object: reference)
        return try decodeObject(response, step: "status patch", object: reference)
    }
}

extension KubeError {
    /// A create of an object that exists (409 AlreadyExists).
    public var isAlreadyExists: Bool { status?.code == 409 && status?.reason == "AlreadyExists" }

    /// The watch or continue token is older than the server keeps (410 Expired or Gone): list again.
    public var isExpired: Bool { status?.code == 410 }
}

extension KubeClient {
    /// A JSON merge patch of the `/status` subresource carrying more than `status`: with `metadata.resourceVersion`
    /// in it, the server applies it only while the object is at that version (409 Conflict otherwise), which
    /// makes it a compare-and-swap.
    public func mergePatchStatus(_ reference: ObjectReference, patch: JSONObject) throws(KubeError) -> JSONObject {
        try mergePatchStatusDated(reference, patch: patch).object
    }

    /// As `mergePatchStatus`, with the API server's time when it answered (`KubeClient.serverTime`).
    public func mergePatchStatusDated(_ reference: ObjectReference, patch: JSONObject) throws(KubeError) -> (object: JSONObject, serverTime: Date?) {
        let info = try resource(apiVersion: reference.apiVersion, kind: reference.kind)
        let path = info.collectionPath(namespace: namespace(of: reference, info)) + "/" + escape(reference.name) + "/status"
        let response = try send("PATCH", path, body: JSON.object(patch).compactBytes, contentType: "application/merge-patch+json",
                                step: "status patch", object: reference)
        return (try decodeObject(response, step: "status patch", object: reference), Self.serverTime(response))
    }
}
