import Foundation
import Model

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
}
