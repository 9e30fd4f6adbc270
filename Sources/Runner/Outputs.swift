import Foundation

/// The files a session declares as outputs (`spec.artifacts.references`), read only from inside the workspace.
enum Outputs {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static let maxBytes = 100 * 1024 * 1024

    /// The file's bytes, refusing absolute paths, `..` and symbolic links that lead out of the workspace.
    static func read(_ path: String, in workspace: String) -> Result<[UInt8], Problem> {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            return .failure(Problem(description: "output \(path) is not a path inside the workspace: skipped"))
        }
        let root = URL(fileURLWithPath: workspace).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: workspace + "/" + path).resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root + "/") else {
            return .failure(Problem(description: "output \(path) leads outside the workspace: skipped"))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: resolved) else {
            return .failure(Problem(description: "output \(path) was not written by the agent"))
        }
        guard data.count <= maxBytes else {
            return .failure(Problem(description: "output \(path) is \(data.count) bytes, more than the \(maxBytes)-byte limit: skipped"))
        }
        return .success(Array(data))
    }

    /// A workspace path as an artifact name: `out/report.md` → `out_report.md` (names hold no `/`).
    static func artifactName(_ path: String) -> String {
        path.split(separator: "/").joined(separator: "_")
    }

    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "md": return "text/markdown; charset=utf-8"
        case "txt", "log": return "text/plain; charset=utf-8"
        case "json": return "application/json"
        case "html": return "text/html; charset=utf-8"
        case "patch", "diff": return "text/x-diff; charset=utf-8"
        case "png": return "image/png"
        case "tar": return "application/x-tar"
        case "gz", "tgz": return "application/gzip"
        default: return "application/octet-stream"
        }
    }
}
