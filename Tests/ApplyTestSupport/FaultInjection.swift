import Foundation
import HTTPServer
import LocalCluster
import Model
import Synchronization

/// Faults a test switches on for the next resource requests of a local cluster: slow answers, throttling,
/// server errors, watches that drop. Installed as the cluster's `requestHook`; off until a test calls
/// `inject`, and discovery is never affected (the hook never sees it).
public final class FaultInjection: Sendable {
    public enum Fault: Sendable, Hashable {
        /// Answer after this delay.
        case latency(milliseconds: Int)
        /// 429 TooManyRequests with a Retry-After header.
        case tooManyRequests(retryAfterSeconds: Int)
        /// 500 InternalError.
        case internalError
        /// The next watch ends (the stream closes) after sending this many events.
        case dropWatch(afterEvents: Int)
    }

    private let pending = Mutex<[(fault: Fault, remaining: Int)]>([])

    public init() {}

    /// Applies `fault` to the next `times` resource requests (watches only, for `dropWatch`).
    public func inject(_ fault: Fault, times: Int = 1) {
        pending.withLock { $0.append((fault, times)) }
    }

    public func clear() { pending.withLock { $0.removeAll() } }

    /// The hook for `LocalClusterServer.Options.requestHook`.
    public var hook: LocalClusterServer.RequestHook {
        { [self] request, serve in
            let isWatch = request.method == "GET" && ["1", "true"].contains(request.query["watch"] ?? "")
            var dropWatchAfter: Int?
            for fault in take(isWatch: isWatch) {
                switch fault {
                case .latency(let milliseconds): Thread.sleep(forTimeInterval: Double(milliseconds) / 1000)
                case .tooManyRequests(let seconds):
                    throw KubeStatus(code: 429, reason: "TooManyRequests",
                                     message: "the local cluster is throttling this request (fault injection); retry after \(seconds)s",
                                     retryAfterSeconds: seconds)
                case .internalError:
                    throw KubeStatus(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault")
                case .dropWatch(let events): dropWatchAfter = events
                }
            }
            let response = try serve()
            guard let dropWatchAfter, case .stream(let stream) = response.body else { return response }
            return Response(status: response.status, headers: response.headers, stream: Self.ending(stream, afterLines: dropWatchAfter))
        }
    }

    /// Takes the faults for one request, counting each down.
    private func take(isWatch: Bool) -> [Fault] {
        pending.withLock { pending in
            var taken: [Fault] = []
            for index in pending.indices where pending[index].remaining > 0 {
                if case .dropWatch = pending[index].fault, !isWatch { continue }
                taken.append(pending[index].fault)
                pending[index].remaining -= 1
            }
            pending.removeAll { $0.remaining <= 0 }
            return taken
        }
    }

    /// A watch stream that closes once it has passed on `limit` event lines (heartbeat newlines aside).
    private static func ending(_ stream: ResponseStream, afterLines limit: Int) -> ResponseStream {
        let sent = Mutex(0)
        return ResponseStream(
            next: {
                while sent.withLock({ $0 < limit }) {
                    guard let chunk = stream.next() else { return nil }
                    var passed = Data()
                    for line in chunk.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
                        let more = sent.withLock { count -> Bool in
                            guard count < limit else { return false }
                            if !line.isEmpty { count += 1 }
                            return true
                        }
                        if !more { break }
                        passed.append(contentsOf: line)
                        passed.append(UInt8(ascii: "\n"))
                    }
                    if !passed.isEmpty { return passed }
                }
                return nil
            },
            cancel: { stream.cancel() })
    }
}
