import Foundation
import HTTPServer
import Model

/// The new-session form (editors): framework, model and tools limited to the namespace's policy, each model's
/// estimated cost, description and repository. The API admits it as it admits webhooks; its 400 names the bad
/// fields, shown next to them.
extension WebUI {
    struct NewSessionInput {
        var framework = ""
        var model = ""
        var tools: [String] = []
        var description = ""
        var repository = ""
    }

    func newSessionPage(_ context: Context, namespace: String, input: NewSessionInput? = nil, errors: [String: String] = [:],
                        banner: String? = nil, status: Int = 200) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        guard Self.validNamespace(namespace) else { return errorPage(context, status: 400, title: "Bad namespace", message: "\(namespace) is not a namespace name.") }
        guard let entry = namespaceEntry(context, token: token, namespace: namespace) else {
            return errorPage(context, status: 403, title: "Forbidden", message: "You may not see the namespace \(namespace).")
        }
        guard Permission.atLeastEditor(entry) else {
            return errorPage(context, status: 403, title: "Forbidden", message: "Starting sessions in \(namespace) needs the editor role; you are a \(entry["permission"]?.stringValue ?? "viewer").")
        }
        let catalog = options.catalog()
        let models = (entry["policy"]?["models"]?.arrayValue ?? []).compactMap(\.stringValue)
        let tools = (entry["policy"]?["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        let budget = entry["policy"]?["budget"]
        var input = input ?? NewSessionInput()
        if input.framework.isEmpty { input.framework = catalog.frameworks.first ?? "" }
        if input.model.isEmpty { input.model = models.first ?? "" }
        if context.request.method == "GET" { input.tools = tools }

        func error(_ field: String) -> HTML {
            guard let message = errors[field] else { return "" }
            return "<p class=\"field-error\" id=\"\(field)-error\">\(message)</p>"
        }
        func described(_ field: String) -> HTML { errors[field] == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(field)-error\"" }
        let frameworks: [HTML] = catalog.frameworks.map { "<option value=\"\($0)\"\(input.framework == $0 ? " selected" : "")>\($0)</option>" }
        let modelOptions: [HTML] = models.map { model in
            let estimate: HTML = catalog.estimates[model].map { " — about \($0.description) \(catalog.currency) a session" } ?? ""
            return "<option value=\"\(model)\"\(input.model == model ? " selected" : "")>\(model)\(estimate)</option>"
        }
        let toolBoxes: [HTML] = tools.map { tool in
            "<label class=\"check\"><input type=\"checkbox\" name=\"tools\" value=\"\(tool)\"\(input.tools.contains(tool) ? " checked" : "")> \(tool)</label>"
        }
        let banner: HTML = banner.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        let body: HTML = """
        <h1>New session in \(namespace)</h1>
        \(banner)
        <p>Budget left this month: <strong>\(budget?["remaining"]?.stringValue) \(budget?["currency"]?.stringValue)</strong> of \(budget?["monthly"]?.stringValue).</p>
        <form method="post" action="/namespaces/\(namespace)/sessions" class="stack" novalidate>
        \(Layout.csrfField(context))
        <label for="framework">Framework</label>
        <select id="framework" name="framework"\(described("framework"))>\(frameworks)</select>\(error("framework"))
        <label for="model">Model</label>
        <select id="model" name="model"\(described("model"))>\(modelOptions)</select>\(error("model"))
        <fieldset\(described("tools"))><legend>Tools</legend>\(toolBoxes)</fieldset>\(error("tools"))
        <label for="description">What should the session do?</label>
        <textarea id="description" name="description" rows="5" required maxlength="10000"\(described("description"))>\(input.description)</textarea>\(error("description"))
        <label for="repository">Repository <span class="hint">(owner/name or a clone URL)</span></label>
        <input id="repository" name="repository" value="\(input.repository)" autocomplete="off"\(described("repository"))>\(error("repository"))
        <button type="submit">Start session</button>
        </form>
        """
        return page(Layout.document(title: "New session", context: context, namespace: namespace, body: body), status: status)
    }

    func createSession(_ context: Context, namespace: String) -> Response {
        guard let (token, _) = requireLogin(context) else { return redirect("/login") }
        let form = Form(context.request.body)
        guard csrfValid(context, form.first) else { return errorPage(context, status: 403, title: "Forbidden", message: "The form had expired or did not come from this site; reload and try again.") }
        guard Self.validNamespace(namespace) else { return errorPage(context, status: 400, title: "Bad namespace", message: "\(namespace) is not a namespace name.") }
        let values = form.first
        let input = NewSessionInput(framework: values["framework"] ?? "", model: values["model"] ?? "", tools: form.all("tools"),
                                    description: values["description"] ?? "", repository: (values["repository"] ?? "").trimmingCharacters(in: .whitespaces))
        var errors: [String: String] = [:]
        if input.description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { errors["description"] = "Say what the session should do." }
        if input.framework.isEmpty { errors["framework"] = "Choose a framework." }
        if !errors.isEmpty { return newSessionPage(context, namespace: namespace, input: input, errors: errors, status: 400) }

        var config: JSONObject = [:]
        if !input.model.isEmpty { config["model"] = .string(input.model) }
        config["tools"] = .strings(input.tools)
        var body: JSONObject = ["framework": ["type": .string(input.framework), "config": .object(config)],
                                "trigger": ["source": "manual", "description": .string(input.description)]]
        if !input.repository.isEmpty { body["repository"] = .string(input.repository) }
        let answer = api.call("POST", "/api/v1/namespaces/\(namespace)/sessions", token: token, body: .object(body), traceID: context.traceID)
        switch answer.status {
        case 201:
            guard let id = answer.json?["id"]?.stringValue, Self.validSessionID(id) else { return redirect("/namespaces/\(namespace)/sessions") }
            return redirect("/namespaces/\(namespace)/sessions/\(id)")
        case 401: return redirect("/login?expired=1", clearing: true)
        case 400:
            var fieldErrors: [String: String] = [:]
            for field in answer.fields { fieldErrors[Self.formField(forAPIField: field)] = answer.message }
            return newSessionPage(context, namespace: namespace, input: input, errors: fieldErrors, banner: fieldErrors.isEmpty ? answer.message : nil, status: 400)
        case 403 where answer.error == "policy_violation", 429, 413:
            let rule = answer.json?["details"]?["rule"]?.stringValue.map { " (rule: \($0))" } ?? ""
            var fieldErrors: [String: String] = [:]
            if let field = answer.json?["details"]?["field"]?.stringValue { fieldErrors[Self.formField(forAPIField: field)] = answer.message }
            return newSessionPage(context, namespace: namespace, input: input, errors: fieldErrors, banner: answer.message + rule, status: answer.status)
        default: return refusal(context, answer)
        }
    }

    /// `framework.config.model` → model: the API names body fields, the form has flat names.
    static func formField(forAPIField field: String) -> String {
        let last = field.split(separator: ".").last.map(String.init) ?? field
        switch last {
        case "type": return "framework"
        case "model", "models": return "model"
        case "tools", "allowedTools": return "tools"
        case "description": return "description"
        case "repository": return "repository"
        default: return last
        }
    }
}
