import Foundation
import Model
import TestSupport
import XCTest

/// The UI in headless chromium through selenium (scripts/ui-browser-test.py; scripts/setup.sh installs chromium,
/// chromium-driver and selenium). Screenshots of every step go to .build/ui-screenshots/; with
/// TENANTRY_UI_DOCS=1, WebUIServeBrowserTests also writes the list and detail to docs/ for the README.
final class WebUIBrowserTests: XCTestCase {
    static let hostile = "Fix <script>window.__xss=1</script> rounding"

    static func runBrowser(_ plan: JSON, file: StaticString = #filePath, line: UInt = #line) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", PackagePaths.root.appendingPathComponent("scripts/ui-browser-test.py").path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(plan.compactBytes))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(text)
        XCTAssertEqual(process.terminationStatus, 0, text, file: file, line: line)
        XCTAssertTrue(text.contains("steps passed"), text, file: file, line: line)
    }

    static func screenshots(_ name: String) -> String {
        PackagePaths.root.appendingPathComponent(".build/ui-screenshots/\(name)").path
    }

    static var docs: JSON {
        ProcessInfo.processInfo.environment["TENANTRY_UI_DOCS"] == "1" ? .string(PackagePaths.root.appendingPathComponent("docs").path) : .null
    }

    /// Pages over contract-shaped sessions (UIFixture): login, the list of exactly the caller's namespace, the
    /// `<script>` title as text, the detail with its log and an artifact preview, a viewer without the create
    /// button whose forged stop gets the API's 403.
    func testPagesInABrowser() throws {
        let fixture = try UIFixture(sessions: [
            "payments-prod": [
                UIFixture.detail(id: "gh-script-title", namespace: "payments-prod", phase: "Running", title: Self.hostile),
                UIFixture.detail(id: "gh-done", namespace: "payments-prod", phase: "Completed", title: "Round totals to cents", minutesAgo: 42),
                UIFixture.detail(id: "manual-waiting", namespace: "payments-prod", phase: "Pending", title: "Upgrade the ledger library", source: "manual",
                                 createdBy: "sam@acme.example", approvalRequired: true, minutesAgo: 3),
            ],
            "payments-staging": [UIFixture.detail(id: "gh-staging", namespace: "payments-staging", phase: "Failed", title: "Staging only")],
            "docs-prod": [UIFixture.detail(id: "docs-one", namespace: "docs-prod", phase: "Running", title: "Another tenant's")],
        ])
        defer { fixture.stop() }
        let editor = try fixture.token("sam@acme.example", ["payments-engineers"])
        let viewer = try fixture.token("vic@acme.example", ["payments-engineers-oncall"])
        let plan: JSON = [
            "base": .string(fixture.base), "screenshots": .string(Self.screenshots("pages")),
            "steps": [
                ["do": "login", "token": .string(editor), "namespaces": ["payments-prod", "payments-staging"]],
                ["do": "list", "namespace": "payments-prod", "sessions": ["gh-script-title", "gh-done", "manual-waiting"],
                 "absent": ["docs-one", "gh-staging", "Another tenant"]],
                ["do": "script_title", "name": "script-title-as-text", "path": "/namespaces/payments-prod/sessions", "title": .string(Self.hostile)],
                ["do": "detail", "namespace": "payments-prod", "session": "gh-script-title", "texts": [.string(Self.hostile), "claude-sonnet-4-5", "git, shell"],
                 "log": "running: echo \"<b>hi</b>\"", "artifact": "summary.md", "artifactText": "fixed one bug <img src=x onerror=alert(1)>"],
                ["do": "phone", "path": "/namespaces/payments-prod/sessions"],
                ["do": "login", "name": "viewer-login", "token": .string(viewer), "namespaces": ["payments-prod"]],
                ["do": "list", "name": "viewer-list", "namespace": "payments-prod", "sessions": ["gh-script-title", "gh-done", "manual-waiting"], "create": false],
                ["do": "detail", "name": "viewer-detail", "namespace": "payments-prod", "session": "gh-script-title", "noButtons": ["stop", "approve", "rerun"]],
                ["do": "forged_post", "page": "/namespaces/payments-prod/sessions/gh-script-title", "path": "/namespaces/payments-prod/sessions/gh-script-title/stop"],
            ],
        ]
        try Self.runBrowser(plan)
    }
}
