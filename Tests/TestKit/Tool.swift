import Foundation

/// Runs a command-line tool found on PATH (`/usr/bin/env NAME …`, never a hard-coded path) and returns its
/// exit status and its output, stdout and stderr together.
public func runTool(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

/// Where SwiftPM put the products, the `tenantry` binary among them (the test bundle sits beside them).
public var productsDirectory: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

/// `tenantry ARGUMENTS` started as a child process (the built binary), and the first output it printed on stdout
/// (for `cluster start`: it is serving and the kubeconfig is written).
public func startTenantry(_ arguments: [String]) throws -> (process: Process, firstOutput: String) {
    let process = Process()
    process.executableURL = productsDirectory.appendingPathComponent("tenantry")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    return (process, String(decoding: output.fileHandleForReading.availableData, as: UTF8.self))
}
