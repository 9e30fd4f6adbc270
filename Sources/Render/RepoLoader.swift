import Foundation
import Model
import Support

/// One file of the tenant repo, parsed, or the reason it could not be.
public struct LoadedFile: Sendable {
    /// Repo-relative path, with `/` separators.
    public let path: String
    public let root: YAMLNode?
    public let diagnostics: [Diagnostic]
}

/// The tenant repo read from disk: `platform.yaml` and every `tenants/**/*.yaml`. Nothing else is read,
/// so the status reports GitSync commits under `status/` never feed back into a render.
public struct LoadedRepo: Sendable {
    public let platform: LoadedFile
    public let tenants: [LoadedFile]
}

/// The repo cannot be rendered at all: no platform file, or not a directory.
public struct RepoError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

public enum RepoLoader {
    public static let platformFile = "platform.yaml"
    public static let tenantsDirectory = "tenants"
    public static let maxFileSize = 1 << 20

    public static func load(_ repo: String) throws(RepoError) -> LoadedRepo {
        let root = URL(fileURLWithPath: repo).standardizedFileURL.resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RepoError([Diagnostic(file: repo, mark: nil, field: "",
                                        message: "not a directory; give the path of a tenant repo (a folder holding platform.yaml and tenants/)")])
        }
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(platformFile).path) else {
            throw RepoError([Diagnostic(file: platformFile, mark: nil, field: "",
                                        message: "missing: a tenant repo needs a platform.yaml at its top (see specs/tenant-repo.md)")])
        }
        let platform = read(platformFile, root: root)
        let paths = tenantPaths(root)
        let tenants = parallelMap(paths) { read($0, root: root) }
        return LoadedRepo(platform: platform, tenants: tenants)
    }

    /// Every `.yaml`/`.yml` file under `tenants/`, in byte order of path; hidden files and folders skipped.
    static func tenantPaths(_ root: URL) -> [String] {
        let base = root.appendingPathComponent(tenantsDirectory)
        var paths: [String] = []
        func walk(_ directory: URL, _ relative: String) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
            for name in names where !name.hasPrefix(".") {
                let url = directory.appendingPathComponent(name)
                let path = relative + "/" + name
                // Directories are followed only when they are real ones, so a link cannot loop or leave the repo;
                // a linked file is listed, and `read` refuses it if it points outside.
                // lstat, not FileManager.attributesOfItem, which also looks up the owner's name: at 10,000 files
                // that lookup was most of the time spent loading.
                var info = stat()
                if lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                    walk(url, path)
                } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                    paths.append(path)
                }
            }
        }
        walk(base, tenantsDirectory)
        return paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Reads and parses one file, refusing what could hurt: links out of the repo, huge files, bad YAML.
    static func read(_ path: String, root: URL) -> LoadedFile {
        func fail(_ message: String, _ mark: SourceMark? = nil) -> LoadedFile {
            LoadedFile(path: path, root: nil, diagnostics: [Diagnostic(file: path, mark: mark, field: "", message: message)])
        }
        let url = root.appendingPathComponent(path)
        let resolved = url.resolvingSymlinksInPath().path
        guard resolved == root.path || resolved.hasPrefix(root.path + "/") else {
            return fail("file is a symbolic link to a file outside the repository; tenant files must live in the repo")
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            return fail("file cannot be read (a dangling symbolic link, or no permission)")
        }
        let size = Int(info.st_size)
        guard size <= maxFileSize else {
            return fail("file is \(size) bytes; files over \(maxFileSize) bytes (1 MiB) are refused")
        }
        guard let data = FileManager.default.contents(atPath: resolved) else { return fail("file cannot be read (no permission?)") }
        let documents: [YAMLNode]
        do {
            documents = try YAML.parseDocuments(Array(data))
        } catch {
            return fail(error.message, error.mark)
        }
        guard let first = documents.first, first.resolved != .null || documents.count > 1 else {
            return fail("file is empty; a \(path == platformFile ? "platform" : "tenant") file needs at least apiVersion, kind and name")
        }
        if documents.count > 1 {
            return fail("file holds \(documents.count) YAML documents; put each tenant in its own file (remove the extra `---`)",
                        documents[1].mark)
        }
        return LoadedFile(path: path, root: first, diagnostics: [])
    }
}
