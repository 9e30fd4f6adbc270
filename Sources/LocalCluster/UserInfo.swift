import Model

/// Who a request comes from, as Kubernetes' authenticators describe a user.
struct UserInfo: Sendable, Hashable {
    var name: String
    var uid: String = ""
    var groups: [String]
    var extra: [String: [String]] = [:]

    static let admin = UserInfo(name: "tenantry-admin", groups: [Groups.masters, Groups.authenticated])

    var isServiceAccount: Bool { ServiceAccountName(username: name) != nil }

    /// `userInfo` as TokenReview and SelfSubjectReview answer it.
    var json: JSON {
        var object: JSONObject = ["username": .string(name)]
        if !uid.isEmpty { object["uid"] = .string(uid) }
        object["groups"] = .strings(groups)
        if !extra.isEmpty { object["extra"] = .object(JSONObject(extra.sorted { $0.key < $1.key }.map { ($0.key, JSON.strings($0.value)) })) }
        return .object(object)
    }
}

/// The groups Kubernetes gives users by how they authenticated.
enum Groups {
    static let masters = "system:masters"
    static let authenticated = "system:authenticated"
    static let unauthenticated = "system:unauthenticated"
    static let serviceAccounts = "system:serviceaccounts"

    static func serviceAccounts(in namespace: String) -> String { "system:serviceaccounts:\(namespace)" }
}

/// `system:serviceaccount:NS:NAME`, the username of a ServiceAccount.
struct ServiceAccountName: Sendable, Hashable {
    var namespace: String
    var name: String

    static let prefix = "system:serviceaccount:"

    init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    init?(username: String) {
        guard username.hasPrefix(Self.prefix) else { return nil }
        let parts = username.dropFirst(Self.prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        namespace = String(parts[0])
        name = String(parts[1])
    }

    var username: String { Self.prefix + namespace + ":" + name }
    var groups: [String] { [Groups.serviceAccounts, Groups.serviceAccounts(in: namespace), Groups.authenticated] }
}
