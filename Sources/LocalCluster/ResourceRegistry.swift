import Model
import Synchronization

/// The resource types served right now: the built-in ones plus those of every established CRD.
final class ResourceRegistry: Sendable {
    private let custom = Mutex<[ResourceType]>([])

    var all: [ResourceType] { ResourceType.builtIn + custom.withLock { $0 } }

    func find(group: String, version: String, plural: String) -> ResourceType? {
        all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    /// Every version of one group, in the order CRDs list them (the first is preferred).
    func versions(of group: String) -> [String] {
        var seen: [String] = []
        for type in all where type.group == group && !seen.contains(type.version) { seen.append(type.version) }
        return seen
    }

    var groups: [String] {
        var seen: [String] = []
        for type in all where !type.group.isEmpty && !seen.contains(type.group) { seen.append(type.group) }
        return seen
    }

    /// Rebuilds the custom types from the stored CRDs (after a CRD write, and at start).
    func reload(crds: [JSON]) {
        let types = crds.filter { $0["metadata"]?["deletionTimestamp"] == nil }.flatMap(ResourceType.defined(by:))
        custom.withLock { $0 = types }
    }
}
