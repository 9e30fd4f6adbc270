import Foundation
import Model

/// `tenantry.yaml` read once into JSON: the one reader behind every part that has a section in it
/// (`source:` and `status:` for GitSync, `auth:` for the Sessions API). Each part checks its own keys.
public enum ConfigDocument {
    public static let defaultName = "tenantry.yaml"

    /// The file's top-level mapping (an empty file is an empty mapping).
    public static func read(at path: String) throws(ConfigDocumentError) -> JSON {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigDocumentError(file: path, message: "cannot read the file; check the path (default \(defaultName))")
        }
        do {
            return try YAML.parseDocument(Array(data))?.json ?? .object(JSONObject())
        } catch {
            throw ConfigDocumentError(file: "\(path):\(error.mark)", message: error.message)
        }
    }
}

/// The file could not be read or is not YAML.
public struct ConfigDocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }
}
