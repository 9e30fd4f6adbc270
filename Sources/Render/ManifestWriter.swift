import Model
import Support

/// Serialises rendered objects: a multi-document YAML stream or a `v1` List, byte-identical for the same input.
public enum ManifestWriter {
    public enum Format: String, Sendable, CaseIterable {
        case yaml, json
    }

    public static func write(_ manifests: [Manifest], as format: Format) -> String {
        switch format {
        case .yaml:
            return manifests.isEmpty ? "" : YAML.emit(manifests.map { .object($0.object) })
        case .json:
            let list: JSON = ["apiVersion": "v1", "kind": "List", "metadata": [:],
                              "items": .array(manifests.map { .object($0.object) })]
            return list.prettyText + "\n"
        }
    }

    /// The file name, under `--out DIR`, of one owner's objects: `<tenant>.yaml`, and `_platform.yaml` for the shared
    /// ones (a leading `_` cannot start a tenant name).
    public static func fileName(owner: String, format: Format) -> String {
        (owner == Manifest.platformOwner ? "_platform" : owner) + "." + format.rawValue
    }
}
