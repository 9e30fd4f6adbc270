import HTTPServer
import Model
import Support

/// Authentication, impersonation and authorization of every request, in kube-apiserver's order.
extension APIServer {
    static let anonymous = UserInfo(name: "system:anonymous", groups: [Groups.unauthenticated])

    /// The user a request is made by: the admin token or one of the cluster's JWTs. Only `/version`
    /// and the health paths may be asked without a token (as `system:anonymous`); everything else
    /// without a valid one is 401 Unauthorized, worded as kube-apiserver words it.
    func authenticate(_ request: Request, publicPath: Bool) throws(APIError) -> UserInfo {
        guard let header = request.headers["authorization"], header.hasPrefix("Bearer ") else {
            if publicPath { return Self.anonymous }
            throw APIError.unauthorized
        }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        if Crypto.constantTimeEquals(Array(token.utf8), Array(adminToken.utf8)) { return .admin }
        guard case .success(let (user, _)) = tokens.authenticate(token) else { throw APIError.unauthorized }
        return user
    }

    /// `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` (kubectl --as, --as-group, --as-uid):
    /// each checked as the `impersonate` verb on users (or serviceaccounts), groups and uids.
    func impersonating(_ user: UserInfo, _ request: Request) throws -> UserInfo {
        let name = request.headers["impersonate-user"]
        let groups = (request.headers["impersonate-group"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let uid = request.headers["impersonate-uid"]
        let extras = request.headers.keys.filter { $0.hasPrefix("impersonate-extra-") }
        guard let name, !name.isEmpty else {
            if !groups.isEmpty || uid != nil || !extras.isEmpty {
                throw APIError.badRequest("requested impersonation of groups, a uid or extras without impersonating a user: add Impersonate-User (kubectl --as)")
            }
            return user
        }
        var checks: [RequestAttributes] = []
        if let account = ServiceAccountName(username: name) {
            checks.append(.resource(verb: "impersonate", group: "", resource: "serviceaccounts", namespace: account.namespace, name: account.name))
        } else {
            checks.append(.resource(verb: "impersonate", group: "", resource: "users", name: name))
        }
        checks += groups.map { .resource(verb: "impersonate", group: "", resource: "groups", name: $0) }
        if let uid { checks.append(.resource(verb: "impersonate", group: "authentication.k8s.io", resource: "uids", name: uid)) }
        var extra: [String: [String]] = [:]
        for header in extras {
            let key = String(header.dropFirst("impersonate-extra-".count)).removingPercentEncoding ?? ""
            let values = (request.headers[header] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            extra[key] = values
            checks += values.map { .resource(verb: "impersonate", group: "authentication.k8s.io", resource: "userextras", subresource: key, name: $0) }
        }
        for check in checks where try !authorizer.authorize(user, check).allowed {
            throw check.forbidden(user)
        }
        var impersonated = UserInfo(name: name, uid: uid ?? "", groups: groups, extra: extra)
        if groups.isEmpty, let account = ServiceAccountName(username: name) {
            impersonated.groups = account.groups
        } else if name != Self.anonymous.name, !groups.contains(Groups.authenticated), !groups.contains(Groups.unauthenticated) {
            impersonated.groups.append(Groups.authenticated)
        }
        return impersonated
    }

    /// What kube-apiserver serves at /.well-known/openid-configuration, so a relying party can find
    /// the key that signs ServiceAccount tokens.
    var openIDConfiguration: JSON {
        ["issuer": .string(ServiceAccountTokenIssuer.issuer), "jwks_uri": .string("https://\(address)/openid/v1/jwks"),
         "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
         "id_token_signing_alg_values_supported": .strings([tokens.key.algorithm.rawValue])]
    }

    /// 403 Forbidden unless RBAC allows it (`system:masters` always is).
    func authorize(_ user: UserInfo, _ attributes: RequestAttributes) throws {
        guard try authorizer.authorize(user, attributes).allowed else { throw attributes.forbidden(user) }
    }
}

extension APIError {
    /// kube-apiserver's answer to a missing or invalid credential, word for word.
    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
}
