import Foundation
import Model

/// Where the node keeps each Pod's files: `<cluster dir>/pods/<pod uid>/` holds `root/` (the
/// container paths: volumes, the ServiceAccount directory, the termination log), `logs/<container>/<restart>.log`
/// in the CRI format (`<RFC 3339 time> <stream> <F|P> <text>`), and `processes/` (the running process
/// groups, so a restarted cluster can kill what a killed one left). All of it goes with the Pod.
struct PodFiles: Sendable {
    let root: String

    init(clusterDirectory: String) { root = clusterDirectory + "/pods" }

    /// The pods directory next to the store's database file.
    init(databasePath: String) { self.init(clusterDirectory: (databasePath as NSString).deletingLastPathComponent) }

    func directory(uid: String) -> String { root + "/" + uid }
    func containerRoot(uid: String) -> String { directory(uid: uid) + "/root" }
    func processes(uid: String) -> String { directory(uid: uid) + "/processes" }
    func log(uid: String, container: String, restart: Int) -> String { directory(uid: uid) + "/logs/\(container)/\(restart).log" }
}

/// One line of a CRI log file.
struct LogLine: Sendable, Equatable {
    var timestamp: String
    var stream: String
    /// false for a `P` line: a piece of a line longer than the node's buffer, continued by the next.
    var complete: Bool
    var text: Substring

    init?(_ raw: Substring) {
        let parts = raw.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return nil }
        timestamp = String(parts[0])
        stream = String(parts[1])
        complete = parts[2] != "P"
        text = parts.count == 4 ? parts[3] : ""
    }

    static func format(_ date: Date, stream: String, complete: Bool, _ text: Data) -> Data {
        var line = Data((timestampText(date) + " " + stream + (complete ? " F " : " P ")).utf8)
        line.append(text)
        line.append(0x0A)
        return line
    }

    /// RFC 3339 with nanoseconds, as the CRI writes and `kubectl logs --timestamps` prints.
    static func timestampText(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let nanos = Int((date.timeIntervalSince1970 - seconds) * 1_000_000_000)
        let digits = String(nanos)
        return String(WriteRequest.timestamp(Date(timeIntervalSince1970: seconds)).dropLast()) + "." + String(repeating: "0", count: 9 - digits.count) + digits + "Z"
    }
}

/// The `pods/log` query: which lines and how they are shown.
struct LogQuery: Sendable, Equatable {
    var tailLines: Int?
    var since: Date?
    var timestamps = false
    var limitBytes: Int?

    /// The bytes a client sees for the lines of a file, newest `tailLines` after `since`.
    func render(_ text: Substring) -> Data {
        var lines = text.split(separator: "\n").compactMap(LogLine.init)
        if let since { lines = lines.filter { (JobStatusDecision.date($0.timestamp) ?? .distantFuture) >= since } }
        if let tailLines { lines = Array(lines.suffix(max(0, tailLines))) }
        var out = Data()
        for line in lines { append(line, to: &out) }
        if let limitBytes, out.count > limitBytes { out = out.prefix(limitBytes) }
        return out
    }

    func append(_ line: LogLine, to out: inout Data) {
        if timestamps { out.append(contentsOf: Array((line.timestamp + " ").utf8)) }
        out.append(contentsOf: Array(line.text.utf8))
        if line.complete { out.append(0x0A) }
    }
}

/// Log files being written right now in this process, and a signal for followers when any grows.
/// The node and the API server share it: both run in the cluster's process.
final class LiveLogs: @unchecked Sendable {
    static let shared = LiveLogs()
    // Unchecked: `open` and `generation` are touched only with `condition` locked.
    private let condition = NSCondition()
    private var open: Set<String> = []
    private var generation = 0

    func opened(_ path: String) { condition.withLock { open.insert(path); generation += 1; condition.broadcast() } }
    func closed(_ path: String) { condition.withLock { open.remove(path); generation += 1; condition.broadcast() } }
    func grew() { condition.withLock { generation += 1; condition.broadcast() } }
    func isOpen(_ path: String) -> Bool { condition.withLock { open.contains(path) } }
    var current: Int { condition.withLock { generation } }

    /// Waits until something was written after `seen`, or the deadline.
    func wait(after seen: Int, until deadline: Date) {
        condition.withLock {
            while generation == seen, Date() < deadline { _ = condition.wait(until: deadline) }
        }
    }
}

/// Writes one container run's stdout and stderr into its log file, line by line with timestamps.
/// Unchecked Sendable: the file handle is written only with `lock` held.
final class LogWriter: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private let handle: FileHandle
    private static let maxLine = 16 * 1024

    init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw NSError(domain: "LocalCluster", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot open the log file \(path)"])
        }
        handle.seekToEndOfFile()
        self.handle = handle
        LiveLogs.shared.opened(path)
    }

    /// Reads a pipe to its end on the calling thread, writing each line as it completes.
    func drain(_ descriptor: Int32, stream: String) {
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            var lines = Data()
            while let newline = pending.firstIndex(of: 0x0A) {
                lines.append(LogLine.format(Date(), stream: stream, complete: true, pending[pending.startIndex..<newline]))
                pending.removeSubrange(pending.startIndex...newline)
            }
            while pending.count >= Self.maxLine {
                lines.append(LogLine.format(Date(), stream: stream, complete: false, pending.prefix(Self.maxLine)))
                pending.removeFirst(Self.maxLine)
            }
            if !lines.isEmpty { write(lines) }
        }
        if !pending.isEmpty { write(LogLine.format(Date(), stream: stream, complete: true, pending)) }
        close(descriptor)
    }

    private func write(_ data: Data) {
        lock.withLock { handle.write(data) }
        LiveLogs.shared.grew()
    }

    func finish() {
        lock.withLock { try? handle.close() }
        LiveLogs.shared.closed(path)
    }
}
