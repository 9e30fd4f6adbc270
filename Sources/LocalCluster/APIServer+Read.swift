import Foundation
import HTTPServer
import Model

extension APIServer {
    func get(_ target: ResourceRoute, name: String) throws -> JSON {
        try store.read { transaction in
            guard let object = try transaction.get(target.type, namespace: target.namespace ?? "", name: name) else {
                throw APIError.notFound(target.type, name)
            }
            return object
        }
    }

    /// A list page: objects matching the selectors in (namespace, name) order, at most `limit`, with a
    /// `continue` token while more may follow. A token older than the event history gets 410 Gone.
    func list(_ target: ResourceRoute, _ request: Request) throws -> JSON {
        let labels = try LabelSelector(parsing: request.query["labelSelector"] ?? "")
        let fields = try FieldSelector(parsing: request.query["fieldSelector"] ?? "", type: target.type)
        let limit = Int(request.query["limit"] ?? "") ?? 0
        let token = try request.query["continue"].flatMap { $0.isEmpty ? nil : $0 }.map { text throws(APIError) in try ContinueToken(decoding: text) }
        return try store.read { transaction in
            var listVersion = try transaction.latestResourceVersion()
            if let token {
                if token.resourceVersion <= (try transaction.compactedResourceVersion()) {
                    throw APIError.gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
                }
                listVersion = token.resourceVersion
            }
            var items: [JSON] = []
            var cursor = token?.last
            var more = false
            let batch = limit > 0 ? max(limit, 100) : 1_000
            scan: while true {
                let rows = try transaction.list(target.type, namespace: target.namespace, after: cursor, limit: batch)
                for (index, object) in rows.enumerated() {
                    cursor = ObjectKey(namespace: object.namespace, name: object.name)
                    guard labels.matches(object.labels), fields.matches(object) else { continue }
                    items.append(object)
                    if limit > 0, items.count == limit {
                        let followers = index < rows.count - 1 ? [] : try transaction.list(target.type, namespace: target.namespace, after: cursor, limit: 1)
                        more = index < rows.count - 1 || !followers.isEmpty
                        break scan
                    }
                }
                if rows.count < batch { break }
            }
            var metadata: JSONObject = ["resourceVersion": .string(String(listVersion))]
            if more, let cursor { metadata["continue"] = .string(ContinueToken(resourceVersion: listVersion, last: cursor).encoded) }
            return ["kind": .string(target.type.listKind), "apiVersion": .string(target.type.apiVersion),
                    "metadata": .object(metadata), "items": .array(items)]
        }
    }
}
