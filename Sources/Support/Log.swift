import Foundation
import Model
import Synchronization

/// Progress and results: text or JSON lines on stderr (`--log-format`), results on stdout. On a
/// terminal (text format) a live counter of applied objects is redrawn in place; in CI (stderr not
/// a terminal) there is none.
public struct Log: Sendable {
    public enum Format: String, Sendable { case text, json }
    public enum Level: String, Sendable { case info, warning, error }

    public let format: Format
    public let stderr: @Sendable (String) -> Void
    public let live: Bool

    public init(format: String?, stderr: @escaping @Sendable (String) -> Void, terminal: Bool = isatty(STDERR_FILENO) == 1) throws(UsageError) {
        guard let parsed = Format(rawValue: format ?? "text") else {
            throw UsageError("--log-format must be text or json, got \"\(format ?? "")\"")
        }
        self.format = parsed
        self.stderr = stderr
        live = terminal && parsed == .text
    }

    /// Redraws `applied N/M` in place, at most every 50 events (whatever they are: applied objects).
    public func counter<Event>(total: Int) -> (@Sendable (Event) -> Void)? {
        guard live else { return nil }
        let done = Mutex(0)
        let stderr = self.stderr
        return { _ in
            let count = done.withLock { value -> Int in
                value += 1
                return value
            }
            if count % 50 == 0 || count == total { stderr("\r\u{1B}[K  applied \(count)/\(total)") }
        }
    }

    public func write(_ level: Level, _ message: String) {
        switch format {
        case .text: stderr((live ? "\r\u{1B}[K" : "") + (level == .info ? "" : "\(level.rawValue): ") + message + "\n")
        case .json:
            let line: JSON = ["time": .string(Timestamp.rfc3339(Date())), "level": .string(level.rawValue), "msg": .string(message)]
            stderr(line.compactText + "\n")
        }
    }

    public func info(_ message: String) { write(.info, message) }
    public func warning(_ message: String) { write(.warning, message) }
    public func error(_ message: String) { write(.error, message) }
}
