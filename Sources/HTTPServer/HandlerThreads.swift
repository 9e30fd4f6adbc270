import Foundation

/// Runs handlers off libmicrohttpd's event threads, at most `limit` at once, on threads started as they are needed
/// and kept until the server stops.
final class HandlerThreads: @unchecked Sendable {
    // Unchecked: every field is read and written with `condition` locked.
    private let condition = NSCondition()
    private let limit: Int
    private var jobs: [@Sendable () -> Void] = []
    private var threads = 0
    private var idle = 0
    private var running = 0
    private var stopping = false

    init(limit: Int) { self.limit = max(limit, 1) }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.withLock {
            jobs.append(job)
            if idle == 0 && threads < limit {
                threads += 1
                let thread = Thread { [self] in work() }
                thread.name = "http-handler"
                thread.start()
            } else {
                condition.signal()
            }
        }
    }

    /// Waits until no job is queued or running, then lets the threads end.
    func stop() {
        condition.withLock {
            while !jobs.isEmpty || running > 0 { condition.wait() }
            stopping = true
            condition.broadcast()
            while threads > 0 { condition.wait() }
        }
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping {
                idle += 1
                condition.wait()
                idle -= 1
            }
            if jobs.isEmpty { break }
            let job = jobs.removeFirst()
            running += 1
            condition.unlock()
            job()
            condition.lock()
            running -= 1
            condition.broadcast()
        }
        threads -= 1
        condition.broadcast()
        condition.unlock()
    }
}
