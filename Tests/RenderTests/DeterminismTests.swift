import Foundation
import Model
import Render
import TestSupport
import XCTest

/// Same input, same bytes: whatever order the file system lists files in, and however often it runs.
final class DeterminismTests: XCTestCase {
    private func renderText(_ path: String, _ format: ManifestWriter.Format) throws -> String {
        ManifestWriter.write(Renderer.render(try RepoValidator.validate(try RepoLoader.load(path))).manifests, as: format)
    }

    func testRenderingTwiceGivesTheSameBytes() throws {
        for format in ManifestWriter.Format.allCases {
            XCTAssertEqual(try renderText(PackagePaths.examples.path, format), try renderText(PackagePaths.examples.path, format))
        }
    }

    func testFileCreationOrderDoesNotChangeTheOutput() throws {
        let sources = try FileManager.default.contentsOfDirectory(atPath: PackagePaths.examples.appendingPathComponent("tenants").path)
        let expected = try renderText(PackagePaths.examples.path, .yaml)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<4 {
            let repo = try TempRepo()
            // Extra synthetic tenants make a directory listing order that differs run to run.
            var files = sources.map { ($0, try! String(contentsOf: PackagePaths.examples.appendingPathComponent("tenants/\($0)"), encoding: .utf8)) }
            files.shuffle(using: &generator)
            for (name, text) in files { try repo.write("tenants/\(name)", text) }
            XCTAssertEqual(try renderText(repo.path, .yaml), expected)
        }
    }

    func testManyTenantsRenderInNameOrderWhateverTheirFileOrder() throws {
        let repo = try TempRepo()
        let names = (0..<200).map { String(format: "t%03d", $0) }
        for name in names.shuffled() { try repo.write("tenants/\(name).yaml", TempRepo.tenant(name)) }
        let first = try renderText(repo.path, .json)
        let rendered = try repo.render()
        XCTAssertEqual(rendered.tenants.map(\.name), names)
        // Rendering in slices (as `tenantry render` streams) gives the same bytes as rendering whole.
        var sliced = ""
        var stream = ManifestStream(format: .json) { sliced += $0 }
        stream.write(Renderer.platformManifests())
        let validated = try repo.validate()
        for start in stride(from: 0, to: names.count, by: 37) {
            let slice = Array(validated.tenants[start..<min(start + 37, names.count)])
            stream.write(Renderer.render(slice, platform: validated.platform).flatMap(\.manifests))
        }
        stream.finish()
        XCTAssertEqual(sliced, first)
    }
}
