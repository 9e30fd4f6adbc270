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
    /// Admitted requests whose job is not queued yet.
    private var admitted = 0
    /// No new request is admitted.
    private var closed = false
    private var stopping = false

    init(limit: Int) { self.limit = max(limit, 1) }

    /// Reserves a place for a job about to be submitted; false once stopping began. The reservation is what lets
    /// `stop` wait for a request whose connection is being suspended for it.
    func admit() -> Bool {
        condition.withLock {
            guard !closed else { return false }
            admitted += 1
            return true
        }
    }

    /// Runs an admitted job.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.withLock {
            admitted -= 1
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

    /// Admits no more jobs, waits until none is admitted, queued or running, then lets the threads end.
    func stop() {
        condition.withLock {
            closed = true
            while admitted > 0 || !jobs.isEmpty || running > 0 { condition.wait() }
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
