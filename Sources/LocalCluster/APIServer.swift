import Foundation
import HTTPServer
import Model

/// The Kubernetes REST API over the store: authentication, routing, and the Status answer for errors.
final class APIServer: Sendable {
    let store: Store
    let registry: ResourceRegistry
    /// Sees every read and write of a stored resource and may answer it instead (see `Options.requestHook`).
    let hook: LocalClusterServer.RequestHook?
    /// The kubeconfig's bearer token: user `tenantry-admin` in `system:masters`.
    let adminToken: String
    let tokens: ServiceAccountTokenIssuer
    let authorizer: Authorizer
    /// host:port the server is reached at, for discovery's serverAddressByClientCIDRs.
    let address: String

    init(store: Store, registry: ResourceRegistry, adminToken: String, tokens: ServiceAccountTokenIssuer, hook: LocalClusterServer.RequestHook?, address: String) {
        self.store = store
        self.registry = registry
        self.adminToken = adminToken
        self.tokens = tokens
        authorizer = Authorizer(store: store)
        self.hook = hook
        self.address = address
    }

    func handle(_ request: Request) -> Response {
        do {
            let publicPath = ["/version", "/version/", "/healthz", "/livez", "/readyz"].contains(request.path)
            let user = try impersonating(try authenticate(request, publicPath: publicPath), request)
            let route: Route
            do {
                route = try Route(path: request.path, registry: registry)
            } catch {
                try authorize(user, RequestAttributes(unresolved: request))
                throw error
            }
            try authorize(user, RequestAttributes(request, route: route))
            switch route {
            case .version: return json(200, versionDocument)
            case .health: return Response(status: 200, headers: ["Content-Type": "text/plain"], body: Data("ok".utf8))
            case .coreVersions: return json(200, coreVersionsDocument)
            case .groupList: return json(200, groupListDocument)
            case .group(let group): return json(200, groupDocument(group))
            case .resourceList(let group, let version): return json(200, resourceListDocument(group: group, version: version))
            case .openAPIv2:
                let document = openAPIv2Document()
                guard request.headers["accept"]?.contains(OpenAPIv2Protobuf.mediaType) == true else { return json(200, document) }
                return Response(status: 200, headers: ["Content-Type": OpenAPIv2Protobuf.contentType], body: Data(OpenAPIv2Protobuf.encode(document)))
            case .openAPIv3Index: return json(200, openAPIIndexDocument)
            case .openIDConfiguration: return json(200, openIDConfiguration)
            case .openIDKeys:
                let keys: JSON = ["keys": [tokens.key.publicKey.jwk]]
                return Response(status: 200, headers: ["Content-Type": "application/jwk-set+json"], body: Data(keys.compactText.utf8))
            case .openAPIv3(let group, let version): return json(200, try openAPIDocument(group: group, version: version))
            case .resource(let target):
                if target.type.createOnly { return try review(target, request, user: user) }
                if target.type == .serviceAccounts, target.subresource == "token" { return try tokenRequest(target, request) }
                let isWatch = request.method == "GET" && target.name == nil && ["1", "true"].contains(request.query["watch"] ?? "")
                let answer = { [self] () throws -> Response in
                    isWatch ? try watch(target, request) : try serve(target, request, user: user)
                }
                return try hook.map { try $0(request, answer) } ?? answer()
            }
        } catch let error as APIError {
            return statusResponse(error)
        } catch {
            return statusResponse(APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(error)"))
        }
    }

    private func serve(_ target: ResourceRoute, _ request: Request, user: UserInfo) throws -> Response {
        if target.subresource == "scale", let paths = target.type.scale, let name = target.name {
            return try scale(target, name: name, request, paths: paths)
        }
        if target.type == .pods, target.subresource == "log" { return try podLog(target, request) }
        if let subresource = target.subresource, subresource != "status" || !target.type.hasStatusSubresource {
            throw APIError.notFoundPath(request.path)
        }
        switch (request.method, target.name) {
        case ("GET", nil): return json(200, try tableIfAsked(request, target, try list(target, request)))
        case ("GET", let name?): return json(200, try tableIfAsked(request, target, try get(target, name: name)))
        case ("POST", nil): return try create(target, request, user: user)
        case ("PUT", let name?): return try update(target, name: name, request, user: user)
        case ("PATCH", let name?): return try patch(target, name: name, request, user: user)
        case ("DELETE", let name?): return try delete(target, name: name, request)
        case ("DELETE", nil): return json(200, try deleteCollection(target, request))
        default: throw APIError.methodNotAllowed(request.method, request.path)
        }
    }

    /// kubectl asks for `as=Table` first, client-go's metadata informers for PartialObjectMetadata;
    /// everything else gets the objects.
    private func tableIfAsked(_ request: Request, _ target: ResourceRoute, _ result: JSON) throws -> JSON {
        guard let present = try presenter(request, target) else { return result }
        return present(result)
    }

    /// Turns an object or a list into the form the Accept header asks for (watches use it per event).
    func presenter(_ request: Request, _ target: ResourceRoute) throws -> (@Sendable (JSON) -> JSON)? {
        guard target.subresource == nil else { return nil }
        switch ResponseForm(accept: request.headers["accept"] ?? "") {
        case .object: return nil
        case .metadata(let apiVersion): return { PartialObjectMetadata.of($0, apiVersion: apiVersion) }
        case .table:
            let (type, columns) = (target.type, try printerColumns(target.type))
            return { result in
                let isList = result["items"] != nil
                var metadata = JSONObject()
                if isList { metadata = result["metadata"]?.objectValue ?? JSONObject() } else {
                    metadata["resourceVersion"] = result.value(at: ["metadata", "resourceVersion"])
                }
                let converter = TableConverter(type: type, printerColumns: columns, now: Date())
                return converter.table(isList ? result["items"]?.arrayValue ?? [] : [result], metadata: metadata)
            }
        }
    }

    /// A custom kind's additionalPrinterColumns for the requested version, read from its CRD.
    private func printerColumns(_ type: ResourceType) throws -> [JSON]? {
        guard !ResourceType.builtIn.contains(type) else { return nil }
        let crd = try store.read { try $0.get(.customResourceDefinitions, namespace: "", name: type.storageKey) }
        let version = crd?.value(at: ["spec", "versions"])?.arrayValue?.first { $0["name"]?.stringValue == type.version }
        return version?["additionalPrinterColumns"]?.arrayValue ?? []
    }

    func json(_ status: Int, _ body: JSON, headers: [String: String] = [:]) -> Response {
        var headers = headers
        headers["Content-Type"] = "application/json"
        return Response(status: status, headers: headers, body: Data(body.compactText.utf8))
    }

    func statusResponse(_ error: APIError) -> Response {
        var headers: [String: String] = [:]
        if let seconds = error.retryAfterSeconds { headers["Retry-After"] = String(seconds) }
        return json(error.code, error.status, headers: headers)
    }
}
