import Foundation

/// Where one artifact lives: a tenant namespace, a session in it, and a name. Every part is checked, so a key
/// can never reach outside its session's prefix (`..`, `/`, control characters and the like are refused).
public struct ArtifactKey: Sendable, Hashable, CustomStringConvertible {
    public let namespace: String
    public let session: String
    public let name: String

    public init(namespace: String, session: String, name: String) throws(ArtifactError) {
        try ArtifactKey.checkDNSName(namespace, what: "namespace", maxLength: 63)
        try ArtifactKey.checkDNSName(session, what: "session name", maxLength: 253)
        try ArtifactKey.checkName(name)
        self.namespace = namespace
        self.session = session
        self.name = name
    }

    /// `<namespace>/<session>/`: the prefix all of a session's artifacts share.
    public static func prefix(namespace: String, session: String) throws(ArtifactError) -> String {
        try checkDNSName(namespace, what: "namespace", maxLength: 63)
        try checkDNSName(session, what: "session name", maxLength: 253)
        return "\(namespace)/\(session)/"
    }

    public var path: String { "\(namespace)/\(session)/\(name)" }
    public var description: String { path }

    public static let maxNameLength = 255

    /// A file name: 1–255 bytes of printable characters, no `/` or `\`, not `.`/`..`, not starting with `.`
    /// (the store keeps its own bookkeeping there).
    public static func checkName(_ name: String) throws(ArtifactError) {
        func refuse(_ why: String) -> ArtifactError { .invalidName(name: name, reason: why) }
        guard !name.isEmpty else { throw refuse("it is empty") }
        guard name.utf8.count <= maxNameLength else { throw refuse("it is longer than \(maxNameLength) bytes") }
        guard name != ".", name != ".." else { throw refuse("it is a relative path") }
        guard !name.hasPrefix(".") else { throw refuse("it starts with a dot") }
        guard !name.contains("/"), !name.contains("\\") else { throw refuse("it contains a path separator") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
                                                      || $0 == "\u{7F}" }) else {
            throw refuse("it contains a control character")
        }
        guard !name.contains("..") else { throw refuse("it contains \"..\"") }
    }

    static func checkDNSName(_ value: String, what: String, maxLength: Int) throws(ArtifactError) {
        let valid = !value.isEmpty && value.utf8.count <= maxLength
            && value.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }
            && value.first != "-" && value.last != "-" && value.first != "." && value.last != "." && !value.contains("..")
        guard valid else {
            throw .invalidName(name: value, reason: "a \(what) must be a lowercase RFC 1123 name of at most \(maxLength) characters")
        }
    }
}

/// What is known of a stored artifact.
public struct ArtifactInfo: Sendable, Hashable {
    public var key: ArtifactKey
    public var size: Int
    public var contentType: String
    public var createdAt: Date

    public init(key: ArtifactKey, size: Int, contentType: String, createdAt: Date) {
        self.key = key
        self.size = size
        self.contentType = contentType
        self.createdAt = createdAt
    }
}

/// The limits every store enforces: at most `maxPerSession` artifacts in a session, each at most `maxBytes`.
public struct ArtifactLimits: Sendable, Hashable {
    public var maxPerSession: Int
    public var maxBytes: Int

    public static let defaultMaxBytes = 100 * 1024 * 1024

    public init(maxPerSession: Int = 100, maxBytes: Int = ArtifactLimits.defaultMaxBytes) {
        self.maxPerSession = maxPerSession
        self.maxBytes = maxBytes
    }
}

/// A byte range of an HTTP `Range` header (`bytes=0-99`, `bytes=100-`, `bytes=-50`), resolved against a size.
public enum ByteRange: Sendable, Hashable {
    case from(Int, through: Int?)
    case suffix(Int)

    /// Parses one range of a `Range: bytes=…` header; several ranges (multipart answers) are not supported.
    public init(header: String) throws(ArtifactError) {
        let invalid = ArtifactError.invalidRange(header)
        guard header.hasPrefix("bytes="), !header.contains(",") else { throw invalid }
        let spec = header.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw invalid }
        if parts[0].isEmpty {
            guard let count = Int(parts[1]), count > 0 else { throw invalid }
            self = .suffix(count)
        } else {
            guard let start = Int(parts[0]), start >= 0 else { throw invalid }
            if parts[1].isEmpty { self = .from(start, through: nil); return }
            guard let end = Int(parts[1]), end >= start else { throw invalid }
            self = .from(start, through: end)
        }
    }

    /// The inclusive offsets within an object of `size` bytes, or nil when the range is not satisfiable (416).
    public func resolved(size: Int) -> ClosedRange<Int>? {
        switch self {
        case .from(let start, let end):
            guard start < size else { return nil }
            return start...min(end ?? size - 1, size - 1)
        case .suffix(let count):
            guard size > 0 else { return nil }
            return max(0, size - count)...(size - 1)
        }
    }

    /// As an HTTP header value.
    public var header: String {
        switch self {
        case .from(let start, let end): return "bytes=\(start)-\(end.map(String.init) ?? "")"
        case .suffix(let count): return "bytes=-\(count)"
        }
    }
}

/// An artifact's bytes (all of them or a range) with what is known of it.
public struct ArtifactContent: Sendable, Hashable {
    public var info: ArtifactInfo
    public var bytes: [UInt8]
    /// The offsets `bytes` covers within the whole artifact (`info.size` bytes).
    public var range: ClosedRange<Int>?

    public init(info: ArtifactInfo, bytes: [UInt8], range: ClosedRange<Int>?) {
        self.info = info
        self.bytes = bytes
        self.range = range
    }
}

public enum ArtifactError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidName(name: String, reason: String)
    case notFound(String)
    case tooLarge(name: String, size: Int, limit: Int)
    case tooMany(session: String, limit: Int)
    case invalidRange(String)
    case rangeNotSatisfiable(range: String, size: Int)
    /// The backing store failed (a file system error, an S3 error answer, a transfer failure).
    case storage(String)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason):
            return "invalid artifact name \(Self.quoted(name)): \(reason)"
        case .notFound(let path): return "artifact \(path) not found"
        case .tooLarge(let name, let size, let limit):
            return "artifact \(name) is \(size) bytes, more than the \(limit)-byte limit per artifact"
        case .tooMany(let session, let limit):
            return "session \(session) already has \(limit) artifacts, the most a session may keep; delete one or overwrite an existing name"
        case .invalidRange(let header): return "invalid Range header \(Self.quoted(header)): expected bytes=START-END, bytes=START- or bytes=-COUNT"
        case .rangeNotSatisfiable(let range, let size): return "range \(range) is outside the artifact's \(size) bytes"
        case .storage(let message): return message
        }
    }

    /// Quoted with control characters escaped, so a hostile name cannot forge log lines.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars.prefix(300) {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.generalCategory == .format {
                    out += String(format: "\\u{%04X}", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// One place artifacts are kept: a local directory or an S3-compatible bucket. Keys are per namespace and session.
public protocol ArtifactStore: Sendable {
    var limits: ArtifactLimits { get }
    /// Stores (or replaces) an artifact; refuses past the size and count limits.
    func put(_ key: ArtifactKey, bytes: [UInt8], contentType: String) throws(ArtifactError) -> ArtifactInfo
    func get(_ key: ArtifactKey, range: ByteRange?) throws(ArtifactError) -> ArtifactContent
    /// A session's artifacts, by name.
    func list(namespace: String, session: String) throws(ArtifactError) -> [ArtifactInfo]
    /// Removes an artifact; removing one that is not there is not an error.
    func delete(_ key: ArtifactKey) throws(ArtifactError)
    /// The session names that have artifacts in a namespace (for retention).
    func sessions(namespace: String) throws(ArtifactError) -> [String]
}

extension ArtifactStore {
    /// The checks every put makes before writing: the size, and the count when the name is new.
    func admit(_ key: ArtifactKey, size: Int) throws(ArtifactError) {
        guard size <= limits.maxBytes else { throw .tooLarge(name: key.name, size: size, limit: limits.maxBytes) }
        let existing = try list(namespace: key.namespace, session: key.session)
        if existing.count >= limits.maxPerSession, !existing.contains(where: { $0.key.name == key.name }) {
            throw .tooMany(session: "\(key.namespace)/\(key.session)", limit: limits.maxPerSession)
        }
    }

    /// Deletes every artifact created before `cutoff` in `namespace` (`retention.artifacts`); returns what it removed.
    public func deleteExpired(namespace: String, before cutoff: Date) throws(ArtifactError) -> [ArtifactKey] {
        var removed: [ArtifactKey] = []
        for session in try sessions(namespace: namespace) {
            for info in try list(namespace: namespace, session: session) where info.createdAt < cutoff {
                try delete(info.key)
                removed.append(info.key)
            }
        }
        return removed
    }
}
