import Foundation
import Model
import Support

/// Reads the `source:` and `status:` sections of `tenantry.yaml` and lays command-line flags
/// over them: what `tenantry source`, `status`, `reconcile` and `serve` run with. The one reader of the file.
public enum ConfigFile {
    public static let defaultName = "tenantry.yaml"

    public static func settings(at path: String) throws(SourceConfigError) -> SourceSettings {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SourceConfigError(
                file: path, field: "--config", message: "cannot read the file; check the path (default \(defaultName))")
        }
        let document: YAMLNode?
        do {
            document = try YAML.parseDocument(Array(data))
        } catch {
            throw SourceConfigError(file: "\(path):\(error.mark)", field: "", message: error.message)
        }
        return try SourceSettings(document: document?.json ?? .object(JSONObject()), file: path)
    }

    /// The configuration from `--config FILE` (or `tenantry.yaml` when present) and the flags in
    /// `arguments`, plus the values of the command's own `extra` flags.
    public static func load(_ arguments: [String], extra: [String] = []) throws -> (config: SourceConfig, extra: [String: String]) {
        let parsed = try SourceSettings.parse(flags: arguments, extra: extra + ["--config"])
        var settings = SourceSettings()
        if let path = parsed.extra["--config"] {
            settings = try self.settings(at: path)
        } else if FileManager.default.fileExists(atPath: defaultName) {
            settings = try self.settings(at: defaultName)
        }
        let config = try settings.overlaid(with: parsed.settings).resolved()
        return (config, parsed.extra.filter { $0.key != "--config" })
    }
}
