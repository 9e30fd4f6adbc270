// Runs `tenantry cluster …` on its own, so tests can start the local cluster as a separate process
// (and kill -9 it) before the lead wires ClusterCommand into the `tenantry` dispatcher.
import Foundation
import LocalCluster
import Model

// `tenantry-local-cluster bench …` runs ClusterBenchCommand (tenantry bench cluster), anything else ClusterCommand.
let arguments = Array(CommandLine.arguments.dropFirst())
let isBench = arguments.first == "bench"
do {
    let stdout: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
    let stderr: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    let code = isBench ? try ClusterBenchCommand.run(Array(arguments.dropFirst()), stdout: stdout, stderr: stderr)
                       : try ClusterCommand.run(arguments, stdout: stdout, stderr: stderr)
    exit(code)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
