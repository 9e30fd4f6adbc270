/// What a request path names: a discovery document, an OpenAPI document, or a resource.
enum Route: Sendable, Hashable {
    case version
    case health
    case coreVersions
    case groupList
    case group(String)
    case resourceList(group: String, version: String)
    case openAPIv2
    case openAPIv3Index
    case openAPIv3(group: String, version: String)
    case resource(ResourceRoute)
    /// The ServiceAccount issuer's OIDC discovery document and its JWKS.
    case openIDConfiguration
    case openIDKeys
}

/// A resource path: `/api/v1/namespaces/{ns}/configmaps/{name}` and every shape in between.
struct ResourceRoute: Sendable, Hashable {
    var type: ResourceType
    var namespace: String?
    var name: String?
    var subresource: String?
}

extension Route {
    /// Resolves a path against the resource types being served; unknown paths are 404 NotFound.
    init(path: String, registry: ResourceRegistry) throws(APIError) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch segments.first {
        case "version": self = .version; return
        case "healthz", "livez", "readyz": self = .health; return
        case ".well-known" where segments == [".well-known", "openid-configuration"]: self = .openIDConfiguration; return
        case "openid" where segments == ["openid", "v1", "jwks"]: self = .openIDKeys; return
        case "openapi" where segments.count == 2 && segments[1] == "v2": self = .openAPIv2; return
        case "openapi" where segments.count == 2 && segments[1] == "v3": self = .openAPIv3Index; return
        case "openapi" where segments.count >= 4 && segments[1] == "v3" && segments[2] == "api":
            self = .openAPIv3(group: "", version: segments[3]); return
        case "openapi" where segments.count >= 5 && segments[1] == "v3" && segments[2] == "apis":
            self = .openAPIv3(group: segments[3], version: segments[4]); return
        case "api":
            if segments.count == 1 { self = .coreVersions; return }
            guard segments[1] == "v1" else { throw APIError.notFoundPath(path) }
            if segments.count == 2 { self = .resourceList(group: "", version: "v1"); return }
            self = .resource(try Self.resource(group: "", version: "v1", rest: Array(segments.dropFirst(2)), registry: registry, path: path))
            return
        case "apis":
            if segments.count == 1 { self = .groupList; return }
            guard registry.groups.contains(segments[1]) else { throw APIError.notFoundPath(path) }
            if segments.count == 2 { self = .group(segments[1]); return }
            guard registry.versions(of: segments[1]).contains(segments[2]) else { throw APIError.notFoundPath(path) }
            if segments.count == 3 { self = .resourceList(group: segments[1], version: segments[2]); return }
            self = .resource(try Self.resource(group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3)), registry: registry, path: path))
            return
        default:
            throw APIError.notFoundPath(path)
        }
    }

    private static func resource(group: String, version: String, rest: [String], registry: ResourceRegistry, path: String) throws(APIError) -> ResourceRoute {
        func type(_ plural: String) throws(APIError) -> ResourceType {
            guard let type = registry.find(group: group, version: version, plural: plural) else { throw APIError.notFoundPath(path) }
            return type
        }
        // namespaces/{ns}/{plural}/... names a namespaced resource unless {plural} is a namespace subresource.
        if rest.count >= 3, rest[0] == "namespaces", let namespaced = registry.find(group: group, version: version, plural: rest[2]), namespaced.namespaced {
            guard rest.count <= 5 else { throw APIError.notFoundPath(path) }
            return ResourceRoute(type: namespaced, namespace: rest[1], name: rest.count > 3 ? rest[3] : nil, subresource: rest.count > 4 ? rest[4] : nil)
        }
        guard rest.count <= 3 else { throw APIError.notFoundPath(path) }
        let resolved = try type(rest[0])
        return ResourceRoute(type: resolved, namespace: nil, name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2] : nil)
    }
}
