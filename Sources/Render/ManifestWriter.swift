import Model
import Support

/// Serialises rendered objects: a multi-document YAML stream or a `v1` List, byte-identical for the same input.
public enum ManifestWriter {
    public enum Format: String, Sendable, CaseIterable {
        case yaml, json
    }

    public static func write(_ manifests: [Manifest], as format: Format) -> String {
        var text = ""
        var stream = ManifestStream(format: format) { text += $0 }
        stream.write(manifests)
        stream.finish()
        return text
    }

    /// The file name, under `--out DIR`, of one owner's objects: `<tenant>.yaml`, and `_platform.yaml` for the shared
    /// ones (a leading `_` cannot start a tenant name).
    public static func fileName(owner: String, format: Format) -> String {
        (owner == Manifest.platformOwner ? "_platform" : owner) + "." + format.rawValue
    }
}

/// Writes manifests to a sink in pieces, so a large render never holds all of its text at once.
/// Each piece is serialised on all cores; the bytes are the same as writing everything in one go.
public struct ManifestStream {
    public let format: ManifestWriter.Format
    private let sink: (String) -> Void
    private var written = 0

    public init(format: ManifestWriter.Format, sink: @escaping (String) -> Void) {
        self.format = format
        self.sink = sink
        if format == .json { sink("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"metadata\": {},\n  \"items\": [") }
    }

    public mutating func write(_ manifests: [Manifest]) {
        guard !manifests.isEmpty else { return }
        let chunkSize = 256
        let chunks = stride(from: 0, to: manifests.count, by: chunkSize).map { Array(manifests[$0..<min($0 + chunkSize, manifests.count)]) }
        let format = self.format
        let first = written == 0
        let texts = parallelMap(Array(chunks.enumerated())) { index, chunk -> String in
            switch format {
            case .yaml:
                return YAML.emit(chunk.map { .object($0.object) })
            case .json:
                var text = ""
                for (offset, manifest) in chunk.enumerated() {
                    text += first && index == 0 && offset == 0 ? "\n    " : ",\n    "
                    text += JSON.object(manifest.object).prettyText(depth: 2)
                }
                return text
            }
        }
        for text in texts { sink(text) }
        written += manifests.count
    }

    public func finish() {
        if format == .json { sink(written == 0 ? "]\n}\n" : "\n  ]\n}\n") }
    }
}
