import Foundation
import Model
import Support

/// Reads the `source:` and `status:` sections of `tenantry.yaml` and lays command-line flags
/// over them: what `tenantry source`, `status`, `reconcile` and `serve` run with. Support's ConfigDocument
/// reads the file for every section (this one, and `auth:` for the Sessions API).
public enum ConfigFile {
    public static let defaultName = ConfigDocument.defaultName

    public static func settings(at path: String) throws(SourceConfigError) -> SourceSettings {
        let document: JSON
        do {
            document = try ConfigDocument.read(at: path)
        } catch {
            throw SourceConfigError(file: error.file, field: error.file == path ? "--config" : "", message: error.message)
        }
        return try SourceSettings(document: document, file: path)
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
