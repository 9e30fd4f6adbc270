import Foundation
import Support
import Model

/// The on-disk layout of one repository's cache:
///
///     <cache>/<name>-<16 hex of sha1(url)>/
///       checkout/              non-bare clone; its work tree is the clean checkout Render reads
///       source.json            the last good fetch (revision, head, time)
///       last-reconcile.json    the status report of the last reconcile (status.json format)
public struct SourceCache: Sendable, Hashable {
    public let root: String

    public init(config: SourceConfig) {
        let trimmed = config.url.hasSuffix("/") ? String(config.url.dropLast()) : config.url
        let last = trimmed.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? "repo"
        let name = last.hasSuffix(".git") ? String(last.dropLast(4)) : last
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        let key = ObjectID.hashing(config.url).hex.prefix(16)
        root = (config.cacheDirectory as NSString).appendingPathComponent("\(safe)-\(key)")
    }

    public var checkout: String { (root as NSString).appendingPathComponent("checkout") }
    var stateFile: String { (root as NSString).appendingPathComponent("source.json") }
    public var lastReconcileFile: String { (root as NSString).appendingPathComponent("last-reconcile.json") }

    /// The last successful fetch, or nil before the first one (or if the file is unreadable,
    /// which only costs a full change list on the next fetch).
    func readState() -> SourceState? {
        guard let data = FileManager.default.contents(atPath: stateFile),
            let object = try? JSON(parsing: data),
            let revision = object["revision"]?.stringValue.flatMap(Revision.init),
            let head = object["head"]?.stringValue.flatMap(ObjectID.init(hex:)),
            let fetchedAt = object["fetchedAt"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        return SourceState(revision: revision, head: head, fetchedAt: fetchedAt)
    }

    func write(_ state: SourceState) throws {
        let json: JSON = [
            "revision": .string(state.revision.description), "head": .string(state.head.hex),
            "fetchedAt": .string(Timestamp.rfc3339(state.fetchedAt)),
        ]
        try AtomicFile.write(Array((json.prettyText + "\n").utf8), to: stateFile)
    }
}

/// What the last good fetch left in use.
struct SourceState: Sendable, Hashable {
    /// The revision of the tenant files: it moves only when files under the tenant path change.
    var revision: Revision
    /// The branch, tag or pinned commit as last fetched (status commits move it, not `revision`).
    var head: ObjectID
    var fetchedAt: Date
}

/// Writes a file by renaming a complete temporary file over it, so readers never see half of one.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
