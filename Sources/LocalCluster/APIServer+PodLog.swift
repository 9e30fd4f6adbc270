import Foundation
import HTTPServer
import Model

extension APIServer {
    /// `GET pods/{name}/log`: a container's output as the node captured it, with `container`,
    /// `previous`, `follow`, `tailLines`, `sinceSeconds`/`sinceTime`, `timestamps` and `limitBytes`.
    func podLog(_ target: ResourceRoute, _ request: Request) throws -> Response {
        guard request.method == "GET", let name = target.name else { throw APIError.methodNotAllowed(request.method, request.path) }
        let pod = try get(target, name: name)
        let containers = (pod.value(at: ["spec", "containers"])?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let initContainers = (pod.value(at: ["spec", "initContainers"])?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container: String
        if let asked = request.query["container"], !asked.isEmpty {
            guard containers.contains(asked) || initContainers.contains(asked) else {
                throw APIError.badRequest("container \(asked) is not valid for pod \(name)")
            }
            container = asked
        } else if containers.count == 1 {
            container = containers[0]
        } else if let preferred = pod.value(at: ["metadata", "annotations", "kubectl.kubernetes.io/default-container"])?.stringValue, containers.contains(preferred) {
            container = preferred
        } else {
            var message = "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
            if !initContainers.isEmpty { message += " or one of the init containers: [\(initContainers.joined(separator: " "))]" }
            throw APIError.badRequest(message)
        }
        let query = try LogQuery(request.query)
        let previous = ["1", "true"].contains(request.query["previous"] ?? "")
        let follow = ["1", "true"].contains(request.query["follow"] ?? "")
        let statuses = (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []) + (pod.value(at: ["status", "initContainerStatuses"])?.arrayValue ?? [])
        let status = statuses.first { $0["name"]?.stringValue == container }
        var restart = 0
        if case .int(let count)? = status?["restartCount"] { restart = count }
        let files = PodFiles(databasePath: store.path)
        let uid = pod.value(at: ["metadata", "uid"])?.stringValue ?? ""
        if previous {
            let path = files.log(uid: uid, container: container, restart: restart - 1)
            guard restart > 0, FileManager.default.fileExists(atPath: path) else {
                throw APIError.badRequest("previous terminated container \"\(container)\" in pod \"\(name)\" not found")
            }
            return try logResponse(path, query, follow: false)
        }
        let path = files.log(uid: uid, container: container, restart: restart)
        guard FileManager.default.fileExists(atPath: path) else {
            let waiting = status?.value(at: ["state", "waiting"])
            let reason = waiting?["reason"]?.stringValue ?? "ContainerCreating"
            if let message = waiting?["message"]?.stringValue, reason != "ContainerCreating", reason != "PodInitializing" {
                throw APIError.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: \(reason): \(message)")
            }
            throw APIError.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: \(reason)")
        }
        return try logResponse(path, query, follow: follow)
    }

    private func logResponse(_ path: String, _ query: LogQuery, follow: Bool) throws -> Response {
        let headers = ["Content-Type": "text/plain", "Cache-Control": "no-cache"]
        let existing = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        // Only whole lines are shown; a line being written is picked up by the follower.
        let whole = existing.lastIndex(of: 0x0A).map { existing[...$0] } ?? Data()
        let initial = query.render(Substring(String(decoding: whole, as: UTF8.self)))
        guard follow else { return Response(status: 200, headers: headers, body: initial) }
        let follower = LogFollower(path: path, offset: UInt64(whole.count), query: query, initial: initial)
        return Response(status: 200, headers: headers, stream: ResponseStream(next: { follower.next() }, cancel: { follower.cancel() }))
    }
}

extension LogQuery {
    init(_ parameters: [String: String]) throws(APIError) {
        func number(_ name: String) throws(APIError) -> Int? {
            guard let text = parameters[name], !text.isEmpty else { return nil }
            guard let value = Int(text), value >= 0 else { throw APIError.badRequest("invalid \(name) \"\(text)\": pass a whole number, 0 or more") }
            return value
        }
        tailLines = try number("tailLines")
        limitBytes = try number("limitBytes")
        timestamps = ["1", "true"].contains(parameters["timestamps"] ?? "")
        if let seconds = try number("sinceSeconds") {
            since = Date().addingTimeInterval(-TimeInterval(seconds))
        } else if let text = parameters["sinceTime"], !text.isEmpty {
            guard let date = JobStatusDecision.date(text) else { throw APIError.badRequest("invalid sinceTime \"\(text)\": use RFC 3339, such as 2024-01-02T15:04:05Z") }
            since = date
        }
    }
}

/// Streams a log file as it grows, until its container's run ends and everything is sent.
/// Unchecked Sendable: the stream's `next` calls come one at a time; `cancelled` is guarded by `lock`.
final class LogFollower: @unchecked Sendable {
    private let path: String
    private var offset: UInt64
    private let query: LogQuery
    private var initial: Data?
    private var partial = Data()
    private let lock = NSLock()
    private var cancelled = false
    private var sent = 0

    init(path: String, offset: UInt64, query: LogQuery, initial: Data) {
        self.path = path
        self.offset = offset
        self.query = query
        self.initial = initial
        sent = initial.count
    }

    func cancel() {
        lock.withLock { cancelled = true }
        LiveLogs.shared.grew()
    }

    func next() -> Data? {
        if let initial {
            self.initial = nil
            if !initial.isEmpty { return initial }
        }
        while !lock.withLock({ cancelled }) {
            if let limit = query.limitBytes, sent >= limit { return nil }
            let generation = LiveLogs.shared.current
            let open = LiveLogs.shared.isOpen(path)
            let chunk = readNew()
            if !chunk.isEmpty {
                sent += chunk.count
                return chunk
            }
            if !open { return nil }
            LiveLogs.shared.wait(after: generation, until: Date().addingTimeInterval(5))
        }
        return nil
    }

    /// Whole lines written since the last read, rendered for the client.
    private func readNew() -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let data = (try? handle.readToEnd()) ?? Data()
        offset += UInt64(data.count)
        partial.append(data ?? Data())
        guard let last = partial.lastIndex(of: 0x0A) else { return Data() }
        let lines = partial[...last]
        partial = Data(partial[partial.index(after: last)...])
        var out = Data()
        for raw in String(decoding: lines, as: UTF8.self).split(separator: "\n") {
            guard let line = LogLine(raw) else { continue }
            if let since = query.since, (JobStatusDecision.date(line.timestamp) ?? .distantFuture) < since { continue }
            query.append(line, to: &out)
        }
        return out
    }
}
