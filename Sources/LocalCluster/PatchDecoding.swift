import Model

/// The patch decodings the API server applies to stored objects, public for the fuzz targets (Sources/Fuzz), which
/// are built in release too and so cannot reach internal code through `@testable import`.
public enum PatchDecoding {
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`).
    public static func mergePatch(_ patch: JSON, onto target: JSON?) -> JSON { mergePatched(target, with: patch) }

    /// Strategic merge patch (`application/strategic-merge-patch+json`), with kubectl's `$` directives.
    public static func strategicMergePatch(_ patch: JSON, onto target: JSON?) -> JSON { StrategicMergePatch.apply(patch, to: target) }
}
