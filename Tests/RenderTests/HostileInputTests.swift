import Foundation
import Model
import Render
import TestSupport
import XCTest

/// Files that could crash or mislead a loader get a clear error, and the other tenants still render.
final class HostileInputTests: XCTestCase {
    /// Writes `bad` next to a valid tenant and returns the bad file's messages after checking the good one rendered.
    private func messages(for bad: Data, name: String = "bad.yaml") throws -> [String] {
        let repo = try TempRepo()
        try repo.write("tenants/good.yaml", TempRepo.tenant("good"))
        try repo.write("tenants/\(name)", bad)
        let rendered = try repo.render()
        let good = try XCTUnwrap(rendered.tenants.first { $0.name == "good" })
        XCTAssertTrue(good.isValid)
        XCTAssertFalse(good.manifests.isEmpty)
        let bad = try XCTUnwrap(rendered.tenants.first { $0.file == "tenants/\(name)" })
        XCTAssertFalse(bad.isValid)
        return bad.messages
    }

    func testAFileOverOneMebibyteIsRefusedUnread() throws {
        let big = Data(("# " + String(repeating: "x", count: 1 << 20) + "\n").utf8)
        XCTAssertEqual(try messages(for: big), ["tenants/bad.yaml: file is 1048579 bytes; files over 1048576 bytes (1 MiB) are refused"])
    }

    func testAnEmptyFile() throws {
        XCTAssertEqual(try messages(for: Data()), ["tenants/bad.yaml: file is empty; a tenant file needs at least apiVersion, kind and name"])
        XCTAssertEqual(try messages(for: Data("# nothing yet\n".utf8)).count, 1)
    }

    func testSeveralDocumentsInOneFile() throws {
        let text = TempRepo.tenant("x") + "---\n" + TempRepo.tenant("y")
        XCTAssertEqual(try messages(for: Data(text.utf8)),
                       ["tenants/bad.yaml:15:1: file holds 2 YAML documents; put each tenant in its own file (remove the extra `---`)"])
    }

    func testNonUTF8Bytes() throws {
        var bytes = Data(TempRepo.tenant("x").utf8)
        bytes.append(contentsOf: [0x23, 0x20, 0xFF, 0x0A])
        XCTAssertEqual(try messages(for: bytes), ["tenants/bad.yaml:14:3: file is not valid UTF-8 (byte 0xFF); save it as UTF-8"])
    }

    func testAliasBombsDuplicateKeysTagsAndDeepNesting() throws {
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n" }
        XCTAssertTrue(try messages(for: Data(bomb.utf8))[0].contains("billion laughs"))
        XCTAssertTrue(try messages(for: Data("name: a\nname: b\n".utf8))[0].contains("duplicate key \"name\" (first defined at line 1)"))
        XCTAssertTrue(try messages(for: Data("name: !!python/object:os.system x\n".utf8))[0].contains("tag !!python/object:os.system is not allowed"))
        let deep = "name: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "\n"
        XCTAssertTrue(try messages(for: Data(deep.utf8))[0].contains("nesting deeper than 64 levels"))
    }

    func testASymlinkLeavingTheRepoIsRefused() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-outside-\(UUID().uuidString).yaml")
        try Data(TempRepo.tenant("outside").utf8).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        let repo = try TempRepo()
        try repo.write("tenants/good.yaml", TempRepo.tenant("good"))
        try FileManager.default.createSymbolicLink(at: repo.url.appendingPathComponent("tenants/linked.yaml"), withDestinationURL: outside)
        // A link that stays inside the repo is fine.
        try repo.write("shared/inside.yaml", TempRepo.tenant("inside"))
        try FileManager.default.createSymbolicLink(at: repo.url.appendingPathComponent("tenants/inside.yaml"),
                                                   withDestinationURL: repo.url.appendingPathComponent("shared/inside.yaml"))
        let validated = try repo.validate()
        let linked = try XCTUnwrap(validated.tenants.first { $0.file == "tenants/linked.yaml" })
        XCTAssertEqual(linked.messages, ["tenants/linked.yaml: file is a symbolic link to a file outside the repository; tenant files must live in the repo"])
        XCTAssertTrue(validated.tenants.first { $0.name == "inside" }?.isValid == true)
        XCTAssertTrue(validated.tenants.first { $0.name == "good" }?.isValid == true)
    }

    func testATopLevelListOrScalarIsNotATenant() throws {
        XCTAssertEqual(try messages(for: Data("- a\n- b\n".utf8)), ["tenants/bad.yaml:1:1: expected a mapping, got a list"])
        XCTAssertEqual(try messages(for: Data("just words\n".utf8)), ["tenants/bad.yaml:1:1: expected a mapping, got \"just words\""])
    }

    func testFilesOutsideTenantsAreNotRead() throws {
        let repo = try TempRepo()
        try repo.write("tenants/good.yaml", TempRepo.tenant("good"))
        try repo.write("status/README.md", "# status\n")
        try repo.write("status/tenants/good.yaml", "this: [is not: valid")
        try repo.write("tenants/.hidden.yaml", "broken: [")
        try repo.write("tenants/notes.txt", "not yaml")
        let validated = try repo.validate()
        XCTAssertEqual(validated.tenants.map(\.file), ["tenants/good.yaml"])
    }
}
