import Foundation
import HTTPClient
import Model
import Support
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Artifacts in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto): objects `<prefix><namespace>/<session>/<name>`
/// (the name escaped as `objectName` says),
/// path-style URLs, every request signed by libcurl's AWS Signature Version 4. The content type is the object's
/// own `Content-Type`; the creation time is its `Last-Modified`.
public final class S3ArtifactStore: ArtifactStore, @unchecked Sendable {
    public struct Configuration: Sendable, Hashable {
        /// `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`: scheme, host and port only.
        public var endpoint: String
        public var bucket: String
        public var region: String
        /// Before every key, e.g. `artifacts/`; empty for none. Letters, digits, `-._~` and `/` only.
        public var prefix: String
        public var accessKeyID: String
        public var secretAccessKey: String

        public init(endpoint: String, bucket: String, region: String = "us-east-1", prefix: String = "", accessKeyID: String,
                    secretAccessKey: String) {
            self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            self.bucket = bucket
            self.region = region
            self.prefix = prefix
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
        }
    }

    public let configuration: Configuration
    public let limits: ArtifactLimits
    private let client: HTTPClient
    private let lock = NSLock()

    public init(_ configuration: Configuration, limits: ArtifactLimits = ArtifactLimits(), client: HTTPClient = HTTPClient()) {
        self.configuration = configuration
        self.limits = limits
        self.client = client
    }

    // MARK: Requests

    /// RFC 3986 unreserved characters stay; everything else is percent-encoded (what SigV4's canonical URI expects).
    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            let char = Character(UnicodeScalar(byte))
            if char.isASCII && (char.isLetter || char.isNumber || "-._~".contains(char) || (keepSlash && char == "/")) {
                out.append(char)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private func objectURL(_ key: String) -> String {
        "\(configuration.endpoint)/\(configuration.bucket)/\(Self.encode(key, keepSlash: true))"
    }

    /// Object keys hold only unreserved characters and `/`, so no URL or signature ever needs percent-encoding
    /// (where S3-compatible servers and libcurl versions disagree): any other byte of a name, and `~`, is written
    /// `~XX` in hex. `workspace diff.patch` is stored as `workspace~20diff.patch`.
    static func objectName(_ name: String) -> String {
        var out = ""
        for byte in name.utf8 {
            let char = Character(UnicodeScalar(byte))
            if char.isASCII && (char.isLetter || char.isNumber || "-._".contains(char)) { out.append(char) } else { out += String(format: "~%02X", byte) }
        }
        return out
    }

    static func artifactName(_ objectName: Substring) -> String? {
        var bytes: [UInt8] = []
        var index = objectName.startIndex
        while index < objectName.endIndex {
            if objectName[index] == "~" {
                let end = objectName.index(index, offsetBy: 3, limitedBy: objectName.endIndex) ?? objectName.endIndex
                guard objectName.distance(from: index, to: end) == 3, let byte = UInt8(objectName[objectName.index(after: index)..<end], radix: 16) else { return nil }
                bytes.append(byte)
                index = end
            } else {
                bytes.append(contentsOf: objectName[index].utf8)
                index = objectName.index(after: index)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    private func objectKey(_ key: ArtifactKey) -> String {
        configuration.prefix + "\(key.namespace)/\(key.session)/" + Self.objectName(key.name)
    }

    private func send(_ method: String, _ url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                      what: String) throws(ArtifactError) -> HTTPResponse {
        let payloadHash = Crypto.sha256Hex(body ?? [])
        let request = HTTPRequest(method: method, url: url, headers: headers + [("x-amz-content-sha256", payloadHash)], body: body,
                                  timeout: 300,
                                  awsSigV4: AWSSigV4(region: configuration.region, accessKeyID: configuration.accessKeyID,
                                                     secretAccessKey: configuration.secretAccessKey))
        do { return try client.send(request) } catch {
            throw .storage("S3 bucket \(configuration.bucket) at \(configuration.endpoint): \(what): \(error.message)")
        }
    }

    /// S3's error document (`<Error><Code>…</Code><Message>…</Message></Error>`) as one line.
    private func failure(_ response: HTTPResponse, _ what: String) -> ArtifactError {
        let values = XMLValues(response.body, elements: ["Code", "Message"])
        let code = values.first { $0.0 == "Code" }?.1 ?? "HTTP \(response.status)"
        let message = values.first { $0.0 == "Message" }?.1 ?? ""
        return .storage("S3 bucket \(configuration.bucket) at \(configuration.endpoint): \(what): \(response.status) \(code)\(message.isEmpty ? "" : ": " + message)")
    }

    // MARK: ArtifactStore

    public func put(_ key: ArtifactKey, bytes: [UInt8], contentType: String) throws(ArtifactError) -> ArtifactInfo {
        lock.lock()
        defer { lock.unlock() }
        try admit(key, size: bytes.count)
        let response = try send("PUT", objectURL(objectKey(key)), headers: [("Content-Type", contentType)], body: bytes, what: "storing \(key)")
        guard response.status == 200 else { throw failure(response, "storing \(key)") }
        return ArtifactInfo(key: key, size: bytes.count, contentType: contentType, createdAt: Date())
    }

    public func get(_ key: ArtifactKey, range: ByteRange?) throws(ArtifactError) -> ArtifactContent {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append(("Range", range.header)) }
        let response = try send("GET", objectURL(objectKey(key)), headers: headers, what: "reading \(key)")
        switch response.status {
        case 200:
            return ArtifactContent(info: info(key, response.headers, size: response.body.count), bytes: response.body, range: nil)
        case 206:
            // Content-Range: bytes 0-9/1234
            let header = response.headers["content-range"] ?? ""
            let parts = header.dropFirst("bytes ".count).split(separator: "/")
            let total = parts.count == 2 ? Int(parts[1]) ?? response.body.count : response.body.count
            let bounds = parts.first?.split(separator: "-").compactMap { Int($0) } ?? []
            let offsets = bounds.count == 2 ? bounds[0]...bounds[1] : 0...max(0, response.body.count - 1)
            return ArtifactContent(info: info(key, response.headers, size: total), bytes: response.body, range: offsets)
        case 404: throw .notFound(key.path)
        case 416:
            let total = Int(response.headers["content-range"]?.split(separator: "/").last ?? "") ?? 0
            throw .rangeNotSatisfiable(range: range?.header ?? "", size: total)
        default: throw failure(response, "reading \(key)")
        }
    }

    private func info(_ key: ArtifactKey, _ headers: [String: String], size: Int) -> ArtifactInfo {
        ArtifactInfo(key: key, size: size, contentType: headers["content-type"] ?? "application/octet-stream",
                     createdAt: headers["last-modified"].flatMap(Timestamp.httpDate) ?? Date(timeIntervalSince1970: 0))
    }

    static func isoDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// ListObjectsV2 under a prefix, following continuation tokens: (key, size, last modified).
    private func listObjects(prefix: String, delimiter: String? = nil) throws(ArtifactError) -> (objects: [(String, Int, Date)], prefixes: [String]) {
        var objects: [(String, Int, Date)] = []
        var prefixes: [String] = []
        var token: String?
        repeat {
            // SigV4 wants the query sorted by name. libcurl 7.88 signs the query as written, and moto's check
            // reads '/' in a value unescaped, so '/' stays as it is (RFC 3986 allows it in a query); the rest is
            // escaped. Keys and prefixes hold only unreserved characters and '/' (see `Configuration.prefix`).
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let token { query.append(("continuation-token", token)) }
            let text = query.sorted { $0.0 < $1.0 }.map { "\(Self.encode($0.0, keepSlash: false))=\(Self.encode($0.1, keepSlash: true))" }
                .joined(separator: "&")
            let response = try send("GET", "\(configuration.endpoint)/\(configuration.bucket)?\(text)", what: "listing \(prefix)")
            guard response.status == 200 else { throw failure(response, "listing \(prefix)") }
            let values = XMLValues(response.body, elements: ["Key", "Size", "LastModified", "NextContinuationToken", "Prefix"],
                                   within: ["Contents", "CommonPrefixes", "ListBucketResult"])
            token = nil
            // Each <Contents> starts with its <Key>; its Size and LastModified follow in any order.
            for (element, value) in values {
                switch element {
                case "Contents/Key": objects.append((value, 0, Date(timeIntervalSince1970: 0)))
                case "Contents/Size" where !objects.isEmpty: objects[objects.count - 1].1 = Int(value) ?? 0
                case "Contents/LastModified" where !objects.isEmpty:
                    objects[objects.count - 1].2 = Self.isoDate(value) ?? Date(timeIntervalSince1970: 0)
                case "CommonPrefixes/Prefix": prefixes.append(value)
                case "ListBucketResult/NextContinuationToken": token = value
                default: break
                }
            }
        } while token != nil
        return (objects, prefixes)
    }

    public func list(namespace: String, session: String) throws(ArtifactError) -> [ArtifactInfo] {
        let prefix = configuration.prefix + (try ArtifactKey.prefix(namespace: namespace, session: session))
        var infos: [ArtifactInfo] = []
        for (objectKey, size, modified) in try listObjects(prefix: prefix).objects {
            guard let name = Self.artifactName(objectKey.dropFirst(prefix.count)),
                  let key = try? ArtifactKey(namespace: namespace, session: session, name: name) else { continue }
            // The listing has no content types: ask for each (at most `maxPerSession` small requests).
            let head = try send("HEAD", objectURL(objectKey), what: "reading \(key)")
            guard head.status == 200 else { throw failure(head, "reading \(key)") }
            infos.append(ArtifactInfo(key: key, size: size, contentType: head.headers["content-type"] ?? "application/octet-stream",
                                      createdAt: modified))
        }
        return infos.sorted { $0.key.name < $1.key.name }
    }

    public func delete(_ key: ArtifactKey) throws(ArtifactError) {
        let response = try send("DELETE", objectURL(objectKey(key)), what: "deleting \(key)")
        guard response.status == 204 || response.status == 200 || response.status == 404 else { throw failure(response, "deleting \(key)") }
    }

    public func sessions(namespace: String) throws(ArtifactError) -> [String] {
        try ArtifactKey.checkDNSName(namespace, what: "namespace", maxLength: 63)
        let prefix = configuration.prefix + namespace + "/"
        return try listObjects(prefix: prefix, delimiter: "/").prefixes
            .map { String($0.dropFirst(prefix.count).dropLast()) }
            .filter { (try? ArtifactKey.checkDNSName($0, what: "session name", maxLength: 253)) != nil }
            .sorted()
    }
}

/// The text of chosen elements of a small XML document, in document order. With `within`, each is named
/// `parent/element` for its nearest listed parent.
private func XMLValues(_ bytes: [UInt8], elements: Set<String>, within parents: Set<String> = []) -> [(String, String)] {
    final class Collector: NSObject, XMLParserDelegate {
        let elements: Set<String>
        let parents: Set<String>
        var stack: [String] = []
        var text = ""
        var values: [(String, String)] = []
        init(_ elements: Set<String>, _ parents: Set<String>) {
            self.elements = elements
            self.parents = parents
        }
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            stack.append(name)
            text = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
            guard elements.contains(name) else { return }
            if parents.isEmpty {
                values.append((name, text))
            } else if let parent = stack.last(where: parents.contains) {
                values.append(("\(parent)/\(name)", text))
            }
        }
    }
    let parser = XMLParser(data: Data(bytes))
    let collector = Collector(elements, parents)
    parser.delegate = collector
    _ = parser.parse()
    return collector.values
}
