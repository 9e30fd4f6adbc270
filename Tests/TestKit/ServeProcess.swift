import Foundation

/// `tenantry serve` (or `tenantry controller`) as a child process: the built binary; the first stdout line says
/// which port it listens on. Shared by CommandsTests, WebhooksTests and WebUITests, which drive the command itself.
public struct ServeProcess: Sendable {
    public let process = Process()
    public let port: UInt16
    public let firstLine: String
    /// Where its stderr goes, or nil when it is discarded.
    public let stderrPath: String?

    /// `stderrPath`: where its log goes (default: discarded).
    public init(arguments: [String], environment: [String: String] = [:], stderrPath: String? = nil) throws {
        self.stderrPath = stderrPath
        process.executableURL = productsDirectory.appendingPathComponent("tenantry")
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        process.standardOutput = output
        if let stderrPath {
            FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        firstLine = String(decoding: line, as: UTF8.self)
        guard let range = firstLine.range(of: "127.0.0.1:"),
              let port = UInt16(firstLine[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            process.waitUntilExit()
            throw NSError(domain: "ServeProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "tenantry serve did not start: \(firstLine)"])
        }
        self.port = port
    }

    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits; the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops it and prints the tail of its log (when it has one), for a failed test's reader.
    public func stop() {
        terminate()
        if let stderrPath, let log = try? String(contentsOfFile: stderrPath, encoding: .utf8) {
            print("tenantry serve's log:\n" + log.suffix(4000))
        }
    }
}
