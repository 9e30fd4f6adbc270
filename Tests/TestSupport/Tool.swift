import Foundation
import Model

/// Runs an installed tool (kubernetes-validate, python3, moto_server's clients) found on PATH and collects what it printed.
public enum Tool {
    public static func run(_ executable: String, _ arguments: [String]) throws -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Custom resources against the `openAPIV3Schema` of the CRD Tenantry renders for them (python3 jsonschema).
public enum CRDSchema {
    /// "ok" when `good` passes and `broken` fails; otherwise what went wrong.
    public static func check(_ good: JSONObject, broken: JSONObject, against crd: JSONObject) throws -> String {
        let script = """
        import sys, json, jsonschema
        crd, good, bad = (json.loads(x) for x in sys.argv[1:4])
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        jsonschema.validate(good, schema)
        try:
            jsonschema.validate(bad, schema)
            sys.exit("a broken object passed the schema")
        except jsonschema.ValidationError:
            print("ok")
        """
        let result = try Tool.run("python3", ["-c", script, JSON.object(crd).compactText, JSON.object(good).compactText,
                                              JSON.object(broken).compactText])
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
