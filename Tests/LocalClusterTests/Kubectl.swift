import Foundation

/// The installed kubectl, run as a child process.
struct Kubectl: Sendable {
    let path: String

    static func find() -> Kubectl? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return Kubectl(path: candidate) }
        }
        return nil
    }

    /// The installed kubectl, or an error that fails the test: scripts/setup.sh installs it, so a machine
    /// without it is a broken setup, never a reason to skip.
    static func required() throws -> Kubectl {
        guard let found = find() else { throw NotInstalled() }
        return found
    }

    struct NotInstalled: Error, CustomStringConvertible {
        var description: String { "kubectl is not on PATH; run scripts/setup.sh, which installs it" }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func run(_ arguments: [String]) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return Result(status: -1, stdout: "", stderr: "\(error)") }
        // Read both pipes before waiting, so a full pipe cannot block the child.
        let errData = PipeReader(err)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.wait(), as: UTF8.self))
    }

    /// Starts a long-running kubectl (such as `get -w`) whose output is read as it comes.
    func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        return (process, out)
    }
}

/// Reads a pipe to its end on another thread.
private final class PipeReader: @unchecked Sendable {
    // Unchecked: `data` is written before `done` is signalled and read after waiting on it.
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()
    init(_ pipe: Pipe) {
        Thread { [self] in
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }.start()
    }
    func wait() -> Data { done.wait(); return data }
}
