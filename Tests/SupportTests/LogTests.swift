import Model
import Support
import XCTest

/// Progress output: a live counter on a terminal only, JSON lines on request.
final class LogTests: XCTestCase {
    final class Lines: @unchecked Sendable {
        // Unchecked: `text` is appended under `lock`.
        private let lock = NSLock()
        private var parts: [String] = []
        func append(_ text: String) { lock.withLock { parts.append(text) } }
        var text: String { lock.withLock { parts.joined() } }
    }

    func testTheLiveCounterIsDrawnOnATerminalAndAbsentInCI() throws {
        let lines = Lines()
        let terminal = try Log(format: "text", stderr: { lines.append($0) }, terminal: true)
        let counter: @Sendable (String) -> Void = try XCTUnwrap(terminal.counter(total: 60))
        for index in 0..<60 { counter("ConfigMap/a/object-\(index) created") }
        terminal.info("apply namespaced: 60 objects")
        XCTAssertEqual(lines.text, "\r\u{1B}[K  applied 50/60\r\u{1B}[K  applied 60/60\r\u{1B}[Kapply namespaced: 60 objects\n")

        let ci = try Log(format: "text", stderr: { _ in }, terminal: false)
        XCTAssertNil(ci.counter(total: 60) as (@Sendable (String) -> Void)?)
        XCTAssertNil(try Log(format: "json", stderr: { _ in }, terminal: true).counter(total: 60) as (@Sendable (String) -> Void)?, "no counter in JSON logs")
    }

    func testJSONLogLinesCarryLevelAndMessage() throws {
        let lines = Lines()
        let log = try Log(format: "json", stderr: { lines.append($0) }, terminal: false)
        log.warning("Namespace/docs left the tenant repo but is kept")
        let json = try JSON(parsing: lines.text.trimmingCharacters(in: .newlines))
        XCTAssertEqual(json["level"], "warning")
        XCTAssertEqual(json["msg"], "Namespace/docs left the tenant repo but is kept")
        XCTAssertNotNil(json["time"]?.stringValue)
        XCTAssertThrowsError(try Log(format: "yaml", stderr: { _ in })) { XCTAssertTrue("\($0)".contains("--log-format must be text or json")) }
    }
}
