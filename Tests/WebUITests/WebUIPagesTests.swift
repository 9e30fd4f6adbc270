import Foundation
import HTTPClient
import Model
import Support
import TestSupport
import WebUI
import XCTest

/// Each page's HTML over HTTP without a browser: status, security headers, escaping of payload text, login
/// and CSRF, and that what the API refuses the UI refuses too.
final class WebUIPagesTests: XCTestCase {
    static let hostile = "Fix <script>alert(\"x\")</script> & 'quotes'"
    var fixture: UIFixture!

    override func setUpWithError() throws {
        fixture = try UIFixture(sessions: [
            "payments-prod": [
                UIFixture.detail(id: "gh-hostile", namespace: "payments-prod", phase: "Running", title: Self.hostile),
                UIFixture.detail(id: "gh-done", namespace: "payments-prod", phase: "Completed", title: "Done one", minutesAgo: 30),
                UIFixture.detail(id: "manual-waiting", namespace: "payments-prod", phase: "Pending", title: "Needs a lead", source: "manual",
                                 createdBy: "sam@acme.example", approvalRequired: true, minutesAgo: 1),
            ],
            "docs-prod": [UIFixture.detail(id: "docs-one", namespace: "docs-prod", phase: "Running", title: "Docs only")],
        ])
    }

    override func tearDown() {
        fixture.stop()
        fixture = nil
    }

    private func assertSecured(_ response: HTTPResponse, file: StaticString = #filePath, line: UInt = #line) {
        let csp = response.headers["content-security-policy"] ?? ""
        XCTAssertTrue(csp.contains("script-src 'self'"), csp, file: file, line: line)
        XCTAssertTrue(csp.contains("frame-ancestors 'none'"), csp, file: file, line: line)
        XCTAssertFalse(csp.contains("unsafe-inline"), csp, file: file, line: line)
        XCTAssertEqual(response.headers["x-content-type-options"], "nosniff", file: file, line: line)
        XCTAssertEqual(response.headers["referrer-policy"], "no-referrer", file: file, line: line)
        XCTAssertEqual(response.headers["x-frame-options"], "DENY", file: file, line: line)
        if response.headers["content-type"]?.hasPrefix("text/html") == true {
            XCTAssertFalse(response.text.contains("<script>"), "no inline script", file: file, line: line)
            XCTAssertNil(response.text.range(of: "<script(?![^>]*type=\"module\" src=\"/assets/)", options: .regularExpression), "only our modules", file: file, line: line)
        }
    }

    func testLoginWithATokenNeedsTheFormsCSRFTokenAndAnAcceptedTokenAndSealsItInAnHttpOnlyCookie() throws {
        let anonymous = try fixture.send("GET", "/namespaces")
        XCTAssertEqual(anonymous.status, 303)
        XCTAssertEqual(anonymous.headers["location"], "/login")

        let login = try fixture.send("GET", "/login")
        XCTAssertEqual(login.status, 200)
        assertSecured(login)
        let setCookie = try XCTUnwrap(login.headers["set-cookie"])
        XCTAssertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/"), setCookie)
        XCTAssertFalse(setCookie.contains("Secure"), "plain HTTP here")
        let cookie = try XCTUnwrap(UIFixture.cookie(login))
        let csrf = try XCTUnwrap(UIFixture.csrf(login.text))
        let sam = try fixture.token("sam@acme.example", ["payments-engineers"])

        XCTAssertEqual(try fixture.send("POST", "/login", cookie: cookie, form: [("token", sam)]).status, 403, "no CSRF token")
        XCTAssertEqual(try fixture.send("POST", "/login", cookie: cookie, form: [("csrf", "forged"), ("token", sam)]).status, 403)
        XCTAssertEqual(try fixture.send("POST", "/login", form: [("csrf", csrf), ("token", sam)]).status, 403, "no cookie (a cross-site post)")
        let refused = try fixture.send("POST", "/login", cookie: cookie, form: [("csrf", csrf), ("token", "not-a-token")])
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(refused.text.contains("did not accept this token"), refused.text)
        XCTAssertTrue(refused.text.contains("aria-describedby=\"token-error\" aria-invalid=\"true\""), "the error is tied to the field")

        let accepted = try fixture.send("POST", "/login", cookie: cookie, form: [("csrf", csrf), ("token", sam)])
        XCTAssertEqual(accepted.status, 303)
        XCTAssertEqual(accepted.headers["location"], "/")
        let session = try XCTUnwrap(UIFixture.cookie(accepted))
        XCTAssertFalse(session.contains(sam) || session.contains(String(sam.prefix(20))), "the token is sealed, not readable")
        XCTAssertFalse(accepted.headers["location"]?.contains(sam) ?? true, "never in a URL")
        XCTAssertEqual(try fixture.send("GET", "/", cookie: session).headers["location"], "/namespaces")

        // A cookie changed by one character, or sealed under another key, is no login.
        var bytes = Array(session.utf8)
        bytes[bytes.count - 5] = bytes[bytes.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertEqual(try fixture.send("GET", "/namespaces", cookie: String(decoding: bytes, as: UTF8.self)).headers["location"], "/login")
        let other = try UIFixture(sessions: [:])
        defer { other.stop() }
        XCTAssertEqual(try other.send("GET", "/namespaces", cookie: session).status, 303, "another server key")

        // Logout needs the CSRF token too, and clears the cookie.
        let home = try fixture.send("GET", "/namespaces", cookie: session)
        let pageCSRF = try XCTUnwrap(UIFixture.csrf(home.text))
        XCTAssertNotEqual(pageCSRF, csrf, "a new CSRF token after login")
        XCTAssertEqual(try fixture.send("POST", "/logout", cookie: session, form: [("csrf", csrf)]).status, 403)
        let out = try fixture.send("POST", "/logout", cookie: session, form: [("csrf", pageCSRF)])
        XCTAssertEqual(out.status, 303)
        XCTAssertTrue(out.headers["set-cookie"]?.contains("Max-Age=0") ?? false)
    }

    func testTheNamespaceSelectorListsOnlyTheCallersNamespacesWithTheirPermissionAndRemembersTheChoice() throws {
        let (cookie, _) = try fixture.logIn(try fixture.token("sam@acme.example", ["payments-engineers"]))
        let page = try fixture.send("GET", "/namespaces", cookie: cookie)
        XCTAssertEqual(page.status, 200)
        assertSecured(page)
        XCTAssertTrue(page.text.contains("href=\"/namespaces/payments-prod/sessions\""))
        XCTAssertTrue(page.text.contains("href=\"/namespaces/payments-staging/sessions\""))
        XCTAssertFalse(page.text.contains("docs-prod"), "another tenant's namespace is not listed")
        XCTAssertTrue(page.text.contains("permission-editor"))

        let list = try fixture.send("GET", "/namespaces/payments-prod/sessions", cookie: cookie)
        let remembered = try XCTUnwrap(UIFixture.cookie(list), "choosing a namespace updates the cookie")
        XCTAssertEqual(try fixture.send("GET", "/", cookie: remembered).headers["location"], "/namespaces/payments-prod/sessions")
    }

    func testTheListAndTheDetailShowPayloadTextAsTextAndOnlyTheButtonsThePermissionAllows() throws {
        let (cookie, _) = try fixture.logIn(try fixture.token("sam@acme.example", ["payments-engineers"]))
        let list = try fixture.send("GET", "/namespaces/payments-prod/sessions", cookie: cookie)
        XCTAssertEqual(list.status, 200, list.text)
        assertSecured(list)
        XCTAssertTrue(list.text.contains(HTML.escape(Self.hostile)), "escaped")
        XCTAssertFalse(list.text.contains("<script>alert"))
        XCTAssertTrue(list.text.contains("Showing 1–3 of 3"))
        XCTAssertTrue(list.text.contains("class=\"badge phase-running\""))
        XCTAssertTrue(list.text.contains("needs approval"))
        XCTAssertTrue(list.text.contains("href=\"/namespaces/payments-prod/sessions/new\""), "an editor may create")
        XCTAssertTrue(list.text.contains("data-events=\"/namespaces/payments-prod/events\""))
        let running = try fixture.send("GET", "/namespaces/payments-prod/sessions?status=Running", cookie: cookie)
        XCTAssertTrue(running.text.contains("gh-hostile") && !running.text.contains("gh-done"))
        XCTAssertTrue(running.text.contains("<option value=\"Running\" selected>"))
        let manual = try fixture.send("GET", "/namespaces/payments-prod/sessions?source=manual", cookie: cookie)
        XCTAssertTrue(manual.text.contains("manual-waiting") && !manual.text.contains("gh-hostile"))

        // Another tenant's namespace: the API's 403, as a page.
        let foreign = try fixture.send("GET", "/namespaces/docs-prod/sessions", cookie: cookie)
        XCTAssertEqual(foreign.status, 403)
        XCTAssertFalse(foreign.text.contains("Docs only"))
        XCTAssertTrue(foreign.text.contains("cannot list resource"), foreign.text)

        let detail = try fixture.send("GET", "/namespaces/payments-prod/sessions/gh-hostile", cookie: cookie)
        XCTAssertEqual(detail.status, 200, detail.text)
        assertSecured(detail)
        XCTAssertTrue(detail.text.contains(HTML.escape(Self.hostile)))
        XCTAssertFalse(detail.text.contains("<script>alert") || detail.text.contains("<iframe") || detail.text.contains("<b>exists"))
        XCTAssertTrue(detail.text.contains("href=\"https://github.com/acme/payments/issues/7\""), "the trigger's issue is linked")
        XCTAssertTrue(detail.text.contains("running: echo &quot;&lt;b&gt;hi&lt;/b&gt;&quot;"), "the log, escaped")
        XCTAssertTrue(detail.text.contains("data-follow=\"/namespaces/payments-prod/sessions/gh-hostile/log?follow=true\""))
        XCTAssertTrue(detail.text.contains("action=\"/namespaces/payments-prod/sessions/gh-hostile/stop\""), "an editor may stop a running one")
        XCTAssertTrue(detail.text.contains("value=\"stop\" class=\"danger\">Stop</button>"), "markup of our own is not escaped")
        XCTAssertFalse(detail.text.contains("/approve\""), "sam is not an approver")
        XCTAssertTrue(detail.text.contains("/artifacts/summary.md?view=1"))

        let markdown = try fixture.send("GET", "/namespaces/payments-prod/sessions/gh-hostile/artifacts/summary.md?view=1", cookie: cookie)
        XCTAssertEqual(markdown.status, 200, markdown.text)
        XCTAssertTrue(markdown.text.contains("<h2>Summary</h2>") && markdown.text.contains("<strong>one</strong>"), markdown.text)
        XCTAssertTrue(markdown.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
        let diff = try fixture.send("GET", "/namespaces/payments-prod/sessions/gh-hostile/artifacts/changes.diff?view=1", cookie: cookie)
        XCTAssertTrue(diff.text.contains("<span class=\"diff-add\">+new &lt;script&gt;</span>"), diff.text)
        let download = try fixture.send("GET", "/namespaces/payments-prod/sessions/gh-hostile/artifacts/changes.diff", cookie: cookie)
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(download.headers["content-type"], "application/octet-stream")
        XCTAssertEqual(download.headers["content-disposition"], "attachment; filename=\"changes.diff\"")

        // A viewer sees neither the create button nor stop.
        let (viewer, _) = try fixture.logIn(try fixture.token("vic@acme.example", ["payments-engineers-oncall"]))
        let viewed = try fixture.send("GET", "/namespaces/payments-prod/sessions", cookie: viewer)
        XCTAssertEqual(viewed.status, 200, viewed.text)
        XCTAssertFalse(viewed.text.contains("/sessions/new\""))
        XCTAssertFalse(try fixture.send("GET", "/namespaces/payments-prod/sessions/gh-hostile", cookie: viewer).text.contains("/stop\""))
        XCTAssertEqual(try fixture.send("GET", "/namespaces/payments-prod/sessions/new", cookie: viewer).status, 403)
    }

    func testFormPostsWithoutTheCSRFTokenAreRefusedBeforeTheAPIIsCalled() throws {
        let (cookie, csrf) = try fixture.logIn(try fixture.token("sam@acme.example", ["payments-engineers"]))
        for path in ["/namespaces/payments-prod/sessions/gh-hostile/stop", "/namespaces/payments-prod/sessions"] {
            XCTAssertEqual(try fixture.send("POST", path, cookie: cookie, form: [("description", "x")]).status, 403, path)
            XCTAssertEqual(try fixture.send("POST", path, cookie: cookie, form: [("csrf", csrf + "x"), ("description", "x")]).status, 403, path)
        }
        let empty = try fixture.send("POST", "/namespaces/payments-prod/sessions", cookie: cookie, form: [("csrf", csrf), ("framework", "script"), ("description", " ")])
        XCTAssertEqual(empty.status, 400)
        XCTAssertTrue(empty.text.contains("id=\"description-error\""), "the error next to its field")
    }

    func testAssetsAreServedUnderContentHashedNamesWithLongCaching() throws {
        let (cookie, _) = try fixture.logIn(try fixture.token("sam@acme.example", ["payments-engineers"]))
        let page = try fixture.send("GET", "/namespaces", cookie: cookie).text
        let css = try XCTUnwrap(page.range(of: "/assets/app\\.[0-9a-f]{16}\\.css", options: .regularExpression).map { String(page[$0]) })
        let js = try XCTUnwrap(page.range(of: "/assets/live\\.[0-9a-f]{16}\\.js", options: .regularExpression).map { String(page[$0]) })
        let style = try fixture.send("GET", css)
        XCTAssertEqual(style.status, 200)
        XCTAssertEqual(style.headers["content-type"], "text/css; charset=utf-8")
        XCTAssertEqual(style.headers["cache-control"], "public, max-age=31536000, immutable")
        XCTAssertTrue(style.text.contains("--accent"))
        let script = try fixture.send("GET", js)
        XCTAssertEqual(script.headers["content-type"], "text/javascript; charset=utf-8")
        let imported = try XCTUnwrap(script.text.range(of: "/assets/log\\.[0-9a-f]{16}\\.js", options: .regularExpression).map { String(script.text[$0]) },
                                     "the module's import names the dependency's hashed file")
        XCTAssertEqual(try fixture.send("GET", imported).status, 200)
        XCTAssertEqual(try fixture.send("GET", "/assets/app.css").status, 404)
        let hash = String(css.dropFirst("/assets/app.".count).prefix(16))
        XCTAssertEqual(hash, String(Crypto.sha256Hex(Array(style.text.utf8)).prefix(16)), "the name is the content's hash")
        let file = try String(contentsOf: PackagePaths.root.appendingPathComponent("Sources/WebUI/Assets/app.css"), encoding: .utf8)
        XCTAssertEqual(style.text, file, "the binary carries the file as it is in the repo")
    }

    func testTheNewSessionFormOffersOnlyThePolicysModelsAndToolsWithEstimates() throws {
        let (cookie, _) = try fixture.logIn(try fixture.token("sam@acme.example", ["payments-engineers"]))
        let form = try fixture.send("GET", "/namespaces/payments-prod/sessions/new", cookie: cookie)
        XCTAssertEqual(form.status, 200, form.text)
        assertSecured(form)
        XCTAssertTrue(form.text.contains("<option value=\"claude-sonnet-4-5\" selected>claude-sonnet-4-5 — about 2.50 USD a session</option>"), form.text)
        XCTAssertTrue(form.text.contains("<option value=\"claude-opus-4-1\">"))
        XCTAssertFalse(form.text.contains("claude-haiku-4-5"), "blocked by the policy")
        XCTAssertTrue(form.text.contains("value=\"github-api\" checked"))
        XCTAssertFalse(form.text.contains("web-fetch"), "a tool the policy blocks")
        XCTAssertTrue(form.text.contains("<label for=\"description\">"), "labelled fields")
        XCTAssertTrue(form.text.contains("Budget left this month: <strong>5000.00 USD</strong>"), form.text)
    }

    func testTheOverviewChartsTheMonthsSpendCountsPhasesAndQueuesApprovalsForApprovers() throws {
        let (lead, _) = try fixture.logIn(try fixture.token("lee@acme.example", ["payments-leads"]))
        let page = try fixture.send("GET", "/namespaces/payments-prod/overview", cookie: lead)
        XCTAssertEqual(page.status, 200, page.text)
        assertSecured(page)
        XCTAssertTrue(page.text.contains("<svg viewBox=\"0 0 600.0 200.0\" role=\"img\""), page.text)
        XCTAssertTrue(page.text.contains("<rect class=\"spent\""))
        XCTAssertTrue(page.text.contains("<line class=\"limit\""))
        XCTAssertTrue(page.text.contains("Spent so far 2.50 USD"), "the completed session's cost")
        XCTAssertTrue(page.text.contains("reserved by live sessions <strong>5.00 USD</strong>"), "two live sessions at the model's estimate")
        XCTAssertTrue(page.text.contains("phase-running\">Running</span> <strong>1</strong>"))
        XCTAssertTrue(page.text.contains("Waiting for your approval"))
        XCTAssertTrue(page.text.contains("action=\"/namespaces/payments-prod/sessions/manual-waiting/approve\""))

        let (engineer, _) = try fixture.logIn(try fixture.token("sam@acme.example", ["payments-engineers"]))
        XCTAssertFalse(try fixture.send("GET", "/namespaces/payments-prod/overview", cookie: engineer).text.contains("Waiting for your approval"))
        XCTAssertEqual(try fixture.send("GET", "/namespaces/docs-prod/overview", cookie: engineer).status, 403)
    }
}
