import Model

/// The form of an answer an Accept header asks for: the object itself, a Table
/// (`application/json;as=Table;g=meta.k8s.io;v=v1`), or metadata only
/// (`as=PartialObjectMetadata` or `PartialObjectMetadataList`, what client-go's metadata informers
/// send). The first JSON media range decides; protobuf ranges are skipped, as they are not served.
enum ResponseForm: Equatable {
    case object
    case table
    case metadata(apiVersion: String)

    init(accept: String) {
        self = .object
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let mediaType = parts.first, ["application/json", "*/*", "application/*"].contains(mediaType) else { continue }
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { parameters[pair[0]] = pair[1] }
            }
            let version = parameters["v"] ?? "v1"
            switch parameters["as"] {
            case "Table": self = .table
            case "PartialObjectMetadata", "PartialObjectMetadataList": self = .metadata(apiVersion: "meta.k8s.io/\(version)")
            default: self = .object
            }
            return
        }
    }
}

enum PartialObjectMetadata {
    /// A list becomes a PartialObjectMetadataList (its items PartialObjectMetadata), an object a
    /// PartialObjectMetadata: kind, apiVersion and the object's metadata only.
    static func of(_ result: JSON, apiVersion: String) -> JSON {
        guard let items = result["items"]?.arrayValue else {
            return ["kind": "PartialObjectMetadata", "apiVersion": .string(apiVersion), "metadata": result["metadata"] ?? .object([:])]
        }
        return ["kind": "PartialObjectMetadataList", "apiVersion": .string(apiVersion), "metadata": result["metadata"] ?? .object([:]),
                "items": .array(items.map { of($0, apiVersion: apiVersion) })]
    }
}
