@_exported import TestKit
import Foundation
import Model
import Render
import Commands

/// The package's own folders, found from this file.
public enum PackagePaths {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let examples = root.appendingPathComponent("examples/tenants")
    public static let invalidExamples = root.appendingPathComponent("examples/invalid")
}

/// A tenant repo in a fresh temporary folder, written file by file.
public final class TempRepo {
    public let url: URL

    public init(platform: String? = TempRepo.platform) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        if let platform { try write("platform.yaml", platform) }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public var path: String { url.path }

    public func write(_ relative: String, _ text: String) throws {
        try write(relative, Data(text.utf8))
    }

    public func write(_ relative: String, _ data: Data) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    public func validate() throws -> ValidatedRepo { try RepoValidator.validate(try RepoLoader.load(path)) }
    public func render() throws -> RenderedRepo { Renderer.render(try validate()) }

    /// The platform file of the examples.
    public static let platform = try! String(contentsOf: PackagePaths.examples.appendingPathComponent("platform.yaml"), encoding: .utf8)

    /// A small valid tenant; `extra` is appended at top level.
    public static func tenant(_ name: String, namespaces: [String]? = nil, extra: String = "") -> String {
        let list = (namespaces ?? [name]).map { "  - name: \($0)\n" }.joined()
        return """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: \(name)
        namespaces:
        \(list)members:
          - user: ada@example.com
            role: admin
        policy:
          models:
            allowed: [claude-sonnet-4-5]
          budget:
            monthly: "100.00"

        """ + extra
    }
}

extension TenantResult {
    public var messages: [String] { diagnostics.map(\.description) }
}

/// Runs the `tenantry` command line in-process and captures what it printed.
public enum CLI {
    public struct Outcome {
        public let code: Int32
        public let stdout: String
        public let stderr: String
    }

    public static func run(_ arguments: [String]) -> Outcome {
        let out = Buffer(), err = Buffer()
        let code = Tenantry.run(arguments, console: Console(out: { out.append($0) }, err: { err.append($0) }))
        return Outcome(code: code, stdout: out.text, stderr: err.text)
    }

    final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [String] = []
        func append(_ text: String) { lock.lock(); parts.append(text); lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return parts.joined() }
    }
}
