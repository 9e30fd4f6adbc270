import Foundation
import Model

/// Artifacts in a directory (the embedded default; a PersistentVolumeClaim in a cluster):
/// `<root>/<namespace>/<session>/<name>`, with each artifact's content type and creation time in
/// `<root>/<namespace>/<session>/.meta/<name>.json`. Writes go to a temporary file and are renamed into place,
/// so a reader sees the old artifact or the new one, never half of one.
public final class LocalArtifactStore: ArtifactStore, @unchecked Sendable {
    public let root: URL
    public let limits: ArtifactLimits
    private let clock: @Sendable () -> Date
    /// Serialises the count check and the write of a put, so two uploads cannot both take the last slot.
    private let lock = NSLock()
    private static let metaDirectory = ".meta"

    public init(root: String, limits: ArtifactLimits = ArtifactLimits(), clock: @escaping @Sendable () -> Date = Date.init) {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
        self.limits = limits
        self.clock = clock
    }

    private func directory(_ namespace: String, _ session: String) -> URL {
        root.appendingPathComponent(namespace, isDirectory: true).appendingPathComponent(session, isDirectory: true)
    }

    private func metaURL(_ key: ArtifactKey) -> URL {
        directory(key.namespace, key.session).appendingPathComponent(Self.metaDirectory, isDirectory: true)
            .appendingPathComponent(key.name + ".json")
    }

    private func fail(_ what: String, _ error: Error) -> ArtifactError {
        .storage("artifact store \(root.path): \(what): \((error as NSError).localizedDescription)")
    }

    public func put(_ key: ArtifactKey, bytes: [UInt8], contentType: String) throws(ArtifactError) -> ArtifactInfo {
        lock.lock()
        defer { lock.unlock() }
        try admit(key, size: bytes.count)
        let folder = directory(key.namespace, key.session)
        let info = ArtifactInfo(key: key, size: bytes.count, contentType: contentType, createdAt: clock())
        let meta: JSON = ["contentType": .string(contentType), "createdAt": .int(Int(info.createdAt.timeIntervalSince1970)),
                          "size": .int(bytes.count)]
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(Self.metaDirectory), withIntermediateDirectories: true)
            try Data(bytes).write(to: folder.appendingPathComponent(key.name), options: .atomic)
            try Data(meta.compactBytes).write(to: metaURL(key), options: .atomic)
        } catch {
            throw fail("writing \(key)", error)
        }
        return info
    }

    private func info(_ key: ArtifactKey) throws(ArtifactError) -> ArtifactInfo {
        let file = directory(key.namespace, key.session).appendingPathComponent(key.name)
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: file.path) } catch { throw .notFound(key.path) }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        var contentType = "application/octet-stream"
        var created = (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        if let data = try? Data(contentsOf: metaURL(key)), let meta = try? JSON(parsing: data) {
            contentType = meta["contentType"]?.stringValue ?? contentType
            if case .int(let seconds)? = meta["createdAt"] { created = Date(timeIntervalSince1970: TimeInterval(seconds)) }
        }
        return ArtifactInfo(key: key, size: size, contentType: contentType, createdAt: created)
    }

    public func get(_ key: ArtifactKey, range: ByteRange?) throws(ArtifactError) -> ArtifactContent {
        let info = try info(key)
        let file = directory(key.namespace, key.session).appendingPathComponent(key.name)
        guard let handle = try? FileHandle(forReadingFrom: file) else { throw .notFound(key.path) }
        defer { try? handle.close() }
        do {
            guard let range else {
                return ArtifactContent(info: info, bytes: Array(try handle.readToEnd() ?? Data()), range: nil)
            }
            guard let offsets = range.resolved(size: info.size) else { throw ArtifactError.rangeNotSatisfiable(range: range.header, size: info.size) }
            try handle.seek(toOffset: UInt64(offsets.lowerBound))
            let data = try handle.read(upToCount: offsets.count) ?? Data()
            return ArtifactContent(info: info, bytes: Array(data), range: offsets)
        } catch let error as ArtifactError {
            throw error
        } catch {
            throw fail("reading \(key)", error)
        }
    }

    public func list(namespace: String, session: String) throws(ArtifactError) -> [ArtifactInfo] {
        _ = try ArtifactKey.prefix(namespace: namespace, session: session)
        let folder = directory(namespace, session)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var infos: [ArtifactInfo] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            // Anything not a valid name was not written by this store: leave it out rather than serve it.
            guard let key = try? ArtifactKey(namespace: namespace, session: session, name: name) else { continue }
            infos.append(try info(key))
        }
        return infos
    }

    public func delete(_ key: ArtifactKey) throws(ArtifactError) {
        lock.lock()
        defer { lock.unlock() }
        let file = directory(key.namespace, key.session).appendingPathComponent(key.name)
        do {
            if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
            if FileManager.default.fileExists(atPath: metaURL(key).path) { try FileManager.default.removeItem(at: metaURL(key)) }
        } catch {
            throw fail("deleting \(key)", error)
        }
    }

    public func sessions(namespace: String) throws(ArtifactError) -> [String] {
        try ArtifactKey.checkDNSName(namespace, what: "namespace", maxLength: 63)
        let folder = root.appendingPathComponent(namespace, isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { (try? ArtifactKey.checkDNSName($0, what: "session name", maxLength: 253)) != nil }.sorted()
    }
}
