import Foundation
import HTTPClient
import Model

/// One event of a watch, typed. Every event carries the resourceVersion to resume from.
public enum WatchEvent: Sendable, Hashable {
    case added(JSONObject)
    case modified(JSONObject)
    case deleted(JSONObject)
    /// Nothing changed up to this version (the server's `BOOKMARK`): resume from here.
    case bookmark(resourceVersion: String)
    /// The server no longer had the history the watch needed (410): the client listed again and these are
    /// every object now. A consumer replaces what it holds; what is missing here was deleted meanwhile.
    case relisted([JSONObject], resourceVersion: String)

    public var resourceVersion: String {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object):
            return object["metadata"]?["resourceVersion"]?.stringValue ?? ""
        case .bookmark(let version), .relisted(_, let version):
            return version
        }
    }
}

extension KubeClient {
    /// Watches one kind from `resourceVersion` (a list's, as `listWithVersion` gives it; "" or "0" starts with
    /// an ADDED event for every current object), on the calling thread, until `onEvent` returns false.
    /// Bookmarks are asked for, so an idle watch still reports where it stands. When the server ends the
    /// stream (its `timeoutSeconds`), the watch resumes from the last version seen; when that version is
    /// too old (410 Expired, as an ERROR event or an answer), the kind is listed again and `.relisted` is
    /// delivered before the watch goes on from the list's version. Other failures throw.
    public func watch(apiVersion: String, kind: String, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                      resourceVersion: String, timeoutSeconds: Int = 300, onEvent: (WatchEvent) -> Bool) throws(KubeError) {
        let info = try resource(apiVersion: apiVersion, kind: kind)
        var version = resourceVersion
        while true {
            var query = ["watch=1", "allowWatchBookmarks=true", "timeoutSeconds=\(timeoutSeconds)"]
            if !version.isEmpty { query.append("resourceVersion=" + escape(version)) }
            if let labelSelector { query.append("labelSelector=" + escape(labelSelector)) }
            if let fieldSelector { query.append("fieldSelector=" + escape(fieldSelector)) }
            let url = config.server + info.collectionPath(namespace: namespace) + "?" + query.joined(separator: "&")
            let outcome = try watchOnce(url: url, kind: kind, timeout: TimeInterval(timeoutSeconds) + 30, onEvent: onEvent)
            switch outcome {
            case .stopped:
                return
            case .ended(let last):
                if !last.isEmpty { version = last }
            case .expired:
                let listed = try listWithVersion(apiVersion: apiVersion, kind: kind, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
                version = listed.resourceVersion
                guard onEvent(.relisted(listed.items, resourceVersion: version)) else { return }
            }
        }
    }

    private enum WatchOutcome {
        /// `onEvent` said stop.
        case stopped
        /// The server ended the stream; the last resourceVersion seen ("" for none).
        case ended(String)
        /// 410: the version is older than the server keeps.
        case expired
    }

    private func watchOnce(url: String, kind: String, timeout: TimeInterval, onEvent: (WatchEvent) -> Bool) throws(KubeError) -> WatchOutcome {
        var buffer: [UInt8] = []
        var body: [UInt8] = []
        var last = ""
        var stopped = false
        var failure: KubeStatus?
        let request = HTTPRequest(method: "GET", url: url, headers: headers(), timeout: timeout)
        let step = "watch \(kind)"
        let answer: (status: Int, headers: [String: String])
        do {
            answer = try withoutActuallyEscaping(onEvent) { onEvent in
                try http.stream(request) { chunk in
                    buffer += chunk
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(buffer[..<newline])
                        buffer.removeSubrange(...newline)
                        guard let event = Self.decodeWatchLine(line) else {
                            body += line
                            continue
                        }
                        switch event {
                        case .failure(let status):
                            failure = status
                            return false
                        case .event(let event):
                            last = event.resourceVersion.isEmpty ? last : event.resourceVersion
                            if !onEvent(event) {
                                stopped = true
                                return false
                            }
                        }
                    }
                    return true
                }
            }
        } catch let error as HTTPClientError {
            throw .transport(error, server: config.server, step: step)
        } catch {
            throw .malformed(step: step, message: "\(error)")
        }
        counts.withLock { $0.reads += 1 }
        if stopped { return .stopped }
        if let failure {
            if failure.code == 410 { return .expired }
            throw .status(failure, object: nil, step: step)
        }
        guard (200..<300).contains(answer.status) else {
            if answer.status == 410 { return .expired }
            throw .status(KubeStatus(code: answer.status, body: body + buffer), object: nil, step: step)
        }
        return .ended(last)
    }

    private enum WatchLine {
        case event(WatchEvent)
        case failure(KubeStatus)
    }

    /// `{"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": …}`; nil for a blank keep-alive
    /// line or anything else (an error answer's body).
    private static func decodeWatchLine(_ line: [UInt8]) -> WatchLine? {
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }),
              let json = try? JSON(parsing: String(decoding: line, as: UTF8.self)),
              let type = json["type"]?.stringValue, let object = json["object"]?.objectValue else { return nil }
        switch type {
        case "ADDED": return .event(.added(object))
        case "MODIFIED": return .event(.modified(object))
        case "DELETED": return .event(.deleted(object))
        case "BOOKMARK": return .event(.bookmark(resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue ?? ""))
        case "ERROR":
            let code: Int
            if case .int(let value)? = object["code"] { code = value } else { code = 500 }
            return .failure(KubeStatus(code: code, body: JSON.object(object).compactBytes))
        default: return nil
        }
    }
}
