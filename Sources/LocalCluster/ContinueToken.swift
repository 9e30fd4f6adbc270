import Foundation
import Model

/// The `continue` value of a list page: the list's resourceVersion and the last key returned.
/// Opaque to clients (base64 of JSON), as in Kubernetes.
struct ContinueToken: Sendable, Hashable {
    var resourceVersion: Int64
    var last: ObjectKey

    var encoded: String {
        let json: JSON = ["rv": .int(Int(resourceVersion)), "ns": .string(last.namespace), "name": .string(last.name)]
        return Data(json.compactText.utf8).base64EncodedString()
    }

    init(resourceVersion: Int64, last: ObjectKey) {
        self.resourceVersion = resourceVersion
        self.last = last
    }

    init(decoding text: String) throws(APIError) {
        guard let data = Data(base64Encoded: text), let json = try? JSON(parsing: data),
              case .int(let version)? = json["rv"], let namespace = json["ns"]?.stringValue, let name = json["name"]?.stringValue else {
            throw APIError.badRequest("invalid continue token \"\(text)\": pass the `continue` value of the previous page unchanged, or start the list again without it")
        }
        resourceVersion = Int64(version)
        last = ObjectKey(namespace: namespace, name: name)
    }
}
