import Foundation
import Model
import Synchronization

/// The controller's view of one kind, kept by its informer from list+watch: objects by `namespace/name`.
/// A write the controller made itself can be put in at once (`remember`); an event older than what is held
/// (by resourceVersion, which the API servers Tenantry talks to give as increasing integers) is ignored, so
/// the cache never goes back to before the controller's own last write.
final class ObjectCache: Sendable {
    private let objects = Mutex<[String: JSONObject]>([:])

    static func key(_ object: JSONObject) -> String {
        "\(object["metadata"]?["namespace"]?.stringValue ?? "")/\(object["metadata"]?["name"]?.stringValue ?? "")"
    }

    private static func version(_ object: JSONObject) -> Int? { object["metadata"]?["resourceVersion"]?.stringValue.flatMap { Int($0) } }

    /// What is kept of an object: all but `metadata.managedFields`, which the controller never reads and which is
    /// often the larger part of an object (client-go informers drop it with a transform for the same reason).
    static func trimmed(_ object: JSONObject) -> JSONObject {
        guard object["metadata"]?["managedFields"] != nil else { return object }
        var trimmed = object
        trimmed.update("metadata") { $0.updateObject { $0["managedFields"] = nil } }
        return trimmed
    }

    /// Puts the object in unless the same or a newer version is held (the watch event of the controller's own write,
    /// already remembered from the API's answer, changes nothing); returns whether it went in.
    @discardableResult
    func remember(_ object: JSONObject) -> Bool {
        let key = Self.key(object)
        return objects.withLock { objects in
            if let held = objects[key], let old = Self.version(held), let new = Self.version(object), new <= old { return false }
            objects[key] = Self.trimmed(object)
            return true
        }
    }

    func forget(_ object: JSONObject) { _ = objects.withLock { $0.removeValue(forKey: Self.key(object)) } }

    /// Replaces everything (after a relist); returns the objects that went missing (deleted meanwhile).
    func replace(with items: [JSONObject]) -> [JSONObject] {
        objects.withLock { objects in
            let fresh = Dictionary(items.map { (Self.key($0), Self.trimmed($0)) }, uniquingKeysWith: { $1 })
            let gone = objects.filter { fresh[$0.key] == nil }.map(\.value)
            objects = fresh
            return gone
        }
    }

    func get(_ key: String) -> JSONObject? { objects.withLock { $0[key] } }

    func all(namespace: String? = nil, where matches: (JSONObject) -> Bool = { _ in true }) -> [JSONObject] {
        objects.withLock { objects in
            objects.values.filter { object in
                (namespace == nil || object["metadata"]?["namespace"]?.stringValue == namespace) && matches(object)
            }
        }
    }

    var count: Int { objects.withLock { $0.count } }
}
