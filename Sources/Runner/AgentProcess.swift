import Foundation
import Model
import Sessions

/// Runs the agent as a child process in its own process group: its output streams to the runner's stdout and a
/// log file as it comes, its usage is metered line by line, and the whole group is stopped (SIGTERM, then SIGKILL
/// after a grace period) at the deadline or when the budget is spent.
final class AgentProcess: @unchecked Sendable {
    /// `terminated`: the runner itself got SIGTERM (its Pod is being deleted: a stop, or the Job's deadline).
    enum Stop: Sendable, Hashable { case deadline, budget, terminated }

    struct Result: Sendable {
        /// The exit status, or the signal number + 128 when a signal ended it (as a shell reports it).
        var exitStatus: Int32
        var stoppedFor: Stop?
        var usage: RunnerSummary.Usage
        var resultText: String?
        /// The last non-empty line of output, for a summary when the agent gives none.
        var lastLine: String?
    }

    static let grace: TimeInterval = 10

    private let lock = NSLock()
    private var meter = UsageMeter()
    private var stopReason: Stop?
    private var lastLine: [UInt8] = []
    private var currentLine: [UInt8] = []
    private let process = Process()

    /// Runs `command` in `directory` until it ends, `timeout` passes or `budget` is reached.
    static func run(_ command: AgentCommand, in directory: String, environment: [String: String], timeout: TimeInterval,
                    budget: Amount?, log: FileHandle, stdout: FileHandle) throws -> Result {
        try AgentProcess().run(command, directory, environment, timeout, budget, log, stdout)
    }

    private func run(_ command: AgentCommand, _ directory: String, _ environment: [String: String], _ timeout: TimeInterval,
                     _ budget: Amount?, _ log: FileHandle, _ stdout: FileHandle) throws -> Result {
        process.executableURL = URL(fileURLWithPath: command.arguments[0].hasPrefix("/") ? command.arguments[0] : "/usr/bin/env")
        process.arguments = command.arguments[0].hasPrefix("/") ? Array(command.arguments.dropFirst()) : command.arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment.merging(command.environment) { _, agent in agent }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // Foundation starts the child as the leader of its own process group: signals to -pid reach everything it started.
        let pid = process.processIdentifier
        // The agent is in its own group, so the SIGTERM a Pod deletion sends the runner's group does not reach it:
        // pass it on, so that stopping the Pod stops the agent (and what it started) too.
        signal(SIGTERM, SIG_IGN)
        // Restored afterwards: an ignored SIGTERM is inherited by every process started later (the runner may
        // run in-process, as in the tests, and the children of a process that ignores SIGTERM cannot be stopped).
        defer { signal(SIGTERM, SIG_DFL) }
        let terminate = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        terminate.setEventHandler { [self] in stop(pid, .terminated) }
        terminate.resume()
        defer { terminate.cancel() }
        let drained = DispatchSemaphore(value: 0)
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                stdout.write(data)
                log.write(data)
                if take(data, budget: budget) { stop(pid, .budget) }
            }
            drained.signal()
        }
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            stop(pid, .deadline)
            exited.wait()
        }
        // The output ends when the last process holding the pipe is gone; one that escaped the group is not waited for.
        if drained.wait(timeout: .now() + AgentProcess.grace) == .timedOut { try? reader.close() }
        lock.lock()
        defer { lock.unlock() }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        let unfinished = String(decoding: currentLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let text = unfinished.isEmpty ? String(decoding: lastLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : unfinished
        return Result(exitStatus: status, stoppedFor: stopReason, usage: meter.usage, resultText: meter.resultText,
                      lastLine: text.isEmpty ? nil : String(text.prefix(RunnerSummary.maxSummaryCharacters)))
    }

    /// Meters a chunk and keeps the last line; returns whether the budget is now spent.
    private func take(_ data: Data, budget: Amount?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        meter.feed(data)
        for byte in data {
            if byte == UInt8(ascii: "\n") {
                if !currentLine.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { lastLine = currentLine }
                currentLine.removeAll(keepingCapacity: true)
            } else if currentLine.count < 4096 {
                currentLine.append(byte)
            }
        }
        if let budget, let cost = meter.usage.cost, cost >= budget { return stopReason == nil }
        return false
    }

    /// SIGTERM to the group, SIGKILL to what is left of it after the grace period. Once.
    private func stop(_ pid: Int32, _ reason: Stop) {
        lock.lock()
        if stopReason != nil { lock.unlock(); return }
        stopReason = reason
        lock.unlock()
        kill(-pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + AgentProcess.grace) { kill(-pid, SIGKILL) }
    }
}
