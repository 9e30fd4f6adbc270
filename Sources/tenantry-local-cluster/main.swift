// Runs `tenantry cluster …` on its own, so tests can start the local cluster as a separate process
// (and kill -9 it) before the lead wires ClusterCommand into the `tenantry` dispatcher.
import Foundation
import LocalCluster
import Model

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let code = try ClusterCommand.run(arguments, stdout: { FileHandle.standardOutput.write(Data($0.utf8)) },
                                      stderr: { FileHandle.standardError.write(Data($0.utf8)) })
    exit(code)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
