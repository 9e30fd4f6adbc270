import Model

/// The discovery documents kubectl reads before anything else (the legacy, unaggregated forms).
extension APIServer {
    var versionDocument: JSON {
        ["major": "1", "minor": "32", "gitVersion": "v1.32.0-tenantry-local", "gitCommit": "", "gitTreeState": "clean",
         "buildDate": "", "goVersion": "", "compiler": "swift", "platform": "linux/amd64"]
    }

    var coreVersionsDocument: JSON {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(address)]]]
    }

    var groupListDocument: JSON {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(registry.groups.map(groupDocument))]
    }

    func groupDocument(_ group: String) -> JSON {
        let versions = registry.versions(of: group).map { version -> JSON in
            ["groupVersion": .string("\(group)/\(version)"), "version": .string(version)]
        }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(group), "versions": .array(versions),
                "preferredVersion": versions.first ?? .null]
    }

    func resourceListDocument(group: String, version: String) -> JSON {
        var resources: [JSON] = []
        for type in registry.all where type.group == group && type.version == version {
            var entry: JSONObject = ["name": .string(type.plural), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                                     "kind": .string(type.kind), "verbs": .strings(type.createOnly ? ["create"] : ResourceType.verbs)]
            if !type.shortNames.isEmpty { entry["shortNames"] = .strings(type.shortNames) }
            resources.append(.object(entry))
            if type.hasStatusSubresource {
                resources.append(["name": .string(type.plural + "/status"), "singularName": "", "namespaced": .bool(type.namespaced),
                                  "kind": .string(type.kind), "verbs": ["get", "patch", "update"]])
            }
            if type == .serviceAccounts {
                resources.append(["name": "serviceaccounts/token", "singularName": "", "namespaced": true, "group": "authentication.k8s.io",
                                  "version": "v1", "kind": "TokenRequest", "verbs": ["create"]])
            }
            if type.scale != nil {
                resources.append(["name": .string(type.plural + "/scale"), "singularName": "", "namespaced": .bool(type.namespaced),
                                  "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(resources)]
    }
}
