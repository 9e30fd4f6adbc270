import Access
import Foundation
import HTTPServer
import Model
import Support
import Webhooks
import WebUI

/// `serve`'s web UI at `/`: its flags, its cookie key, and the catalog the new-session form offers (the tenant
/// table's runners and model estimates, which follow the tenant repo).
extension ServeCommand {
    static let webUIUsage = """
    --ui-key-file PATH       32 bytes (raw or 64 hex digits) that seal the web UI's session cookie; replicas behind one
                               address need the same file. Without it a key is generated at start (logins end at a restart)
      --ui-oidc-client-id ID   log people in with the first auth.issuers entry of --config (authorization code + PKCE)
      --ui-oidc-client-secret-file F  the client secret, for a confidential client
      --ui-oidc-redirect-url URL  this server's /login/callback as registered with the provider
      --ui-secure-cookies      mark the cookie Secure (set when TLS ends in front of serve)
    """
    static let webUIValued = ["--ui-key-file", "--ui-oidc-client-id", "--ui-oidc-client-secret-file", "--ui-oidc-redirect-url"]
    static let webUISwitches = ["--ui-secure-cookies"]

    struct WebUIFlags {
        var keyFile: String?
        var oidcClientID: String?
        var oidcClientSecretFile: String?
        var oidcRedirectURL: String?
        var secureCookies = false

        init(_ args: Arguments) throws(UsageError) {
            keyFile = args.value("--ui-key-file")
            oidcClientID = args.value("--ui-oidc-client-id")
            oidcClientSecretFile = args.value("--ui-oidc-client-secret-file")
            oidcRedirectURL = args.value("--ui-oidc-redirect-url")
            secureCookies = args.isSet("--ui-secure-cookies")
            if (oidcClientID == nil) != (oidcRedirectURL == nil) {
                throw UsageError("--ui-oidc-client-id and --ui-oidc-redirect-url go together: the provider sends the browser back to the redirect URL")
            }
        }
        init() {}
    }

    /// The OIDC issuer the API trusts first (tenantry.yaml `auth.issuers[0]`), for the UI's login.
    static func firstIssuer(_ flags: Flags) throws -> (url: String, certificateAuthority: String?)? {
        guard FileManager.default.fileExists(atPath: flags.config) else { return nil }
        guard let issuer = try AuthConfiguration.load(file: flags.config).issuers.first else { return nil }
        return (issuer.url, issuer.certificateAuthority)
    }

    /// The UI over `api`, the handler serve mounts under /api/v1. `issuer` is the OIDC issuer the API trusts.
    static func webUI(_ flags: WebUIFlags, api: @escaping @Sendable (Request) -> Response?, issuer: (url: String, certificateAuthority: String?)?,
                      table: @escaping @Sendable () -> TenantTable?) throws -> WebUI {
        var options = WebUI.Options(api: api, key: try WebUI.key(file: flags.keyFile))
        options.secure = flags.secureCookies
        options.catalog = {
            guard let table = table() else { return WebUI.Catalog() }
            var estimates: [String: Amount] = [:]
            for model in table.platform.models { estimates[model.name] = table.estimatedCost(model: model.name) }
            return WebUI.Catalog(frameworks: table.platform.runners.map(\.type), estimates: estimates, currency: table.platform.budget.currency)
        }
        if let clientID = flags.oidcClientID, let redirect = flags.oidcRedirectURL {
            guard let issuer else { throw UsageError("--ui-oidc-client-id needs an OIDC issuer in --config's auth.issuers (the API must trust its tokens)") }
            var secret: String?
            if let file = flags.oidcClientSecretFile {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw UsageError("cannot read --ui-oidc-client-secret-file \(file)") }
                secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            options.oidc = OIDCLogin(OIDCLogin.Configuration(issuer: issuer.url, clientID: clientID, clientSecret: secret, redirectURI: redirect,
                                                             certificateAuthority: issuer.certificateAuthority))
        }
        return WebUI(options)
    }
}
