import Foundation

/// The page around every page: head (our CSS and script modules only), a skip link, the header with the
/// namespace and logout, and the main region.
enum Layout {
    static func document(title: String, context: WebUI.Context, namespace: String? = nil, body: HTML, live: HTML = "") -> HTML {
        let user: HTML
        if let state = context.state, state.token != nil {
            user = """
            <form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="\(state.csrf)"><button type="submit">Log out</button></form>
            """
        } else {
            user = ""
        }
        let links: HTML
        if let namespace {
            let ns = HTML.component(namespace)
            links = """
            <nav aria-label="Namespace"><a href="/namespaces">Namespaces</a> <span aria-hidden="true">›</span> <strong>\(namespace)</strong>
            <a href="/namespaces/\(ns)/sessions">Sessions</a> <a href="/namespaces/\(ns)/overview">Overview</a></nav>
            """
        } else if context.state?.token != nil {
            links = "<nav aria-label=\"Main\"><a href=\"/namespaces\">Namespaces</a></nav>"
        } else {
            links = ""
        }
        return """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · Tenantry</title>
        <link rel="stylesheet" href="\(Assets.url("app.css"))">
        <script type="module" src="\(Assets.url("live.js"))"></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top"><a class="brand" href="/">Tenantry</a>\(links)\(user)</header>
        <main id="main" tabindex="-1"\(live)>
        \(body)
        </main>
        </body>
        </html>
        """
    }

    static func csrfField(_ context: WebUI.Context) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(context.state?.csrf ?? "")\">"
    }

    static func badge(_ phase: String) -> HTML {
        "<span class=\"badge phase-\(phase.lowercased())\">\(phase)</span>"
    }
}
