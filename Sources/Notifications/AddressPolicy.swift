import Foundation
import Model

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fe80::/10`); a bare address is a /32 or /128.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes.
    public let network: [UInt8]
    public let prefix: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPAddress.bytes(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix), parts.count == 1 || parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
        self.network = bytes
        self.prefix = prefix
        self.description = text
    }

    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var remaining = prefix
        for (a, n) in zip(address, network) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            guard a & mask == n & mask else { return false }
            remaining -= bits
        }
        return true
    }
}

enum IPAddress {
    /// The 4 or 16 bytes of a numeric address; an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as its 4 bytes,
    /// so a deny rule for 127.0.0.0/8 cannot be dodged by writing it the IPv6 way.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        return unmapped(withUnsafeBytes(of: &v6) { Array($0) })
    }

    static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        bytes.count == 16 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF
            ? Array(bytes[12...]) : bytes
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        _ = copy.withUnsafeMutableBytes { inet_ntop(bytes.count == 4 ? AF_INET : AF_INET6, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Where notifications may go: a URL's host is resolved (getaddrinfo), every address it resolves to is checked,
/// and the request is then pinned to the checked address (libcurl's CURLOPT_RESOLVE), so a name that resolves
/// somewhere harmless and then, on the second lookup, into the cluster (DNS rebinding) cannot get through.
/// An address in `deny` is refused unless it is also in `allow` (the platform's exceptions).
public struct AddressPolicy: Sendable, Hashable {
    /// Always denied: loopback, link-local (cloud metadata lives at 169.254.169.254) and "this network".
    public static let alwaysDenied = ["127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10"].map { CIDR($0)! }
    /// The default: those, and the private ranges a cluster's pods and services use.
    public static let defaultDeny = alwaysDenied + NotificationAddresses.privateRanges.map { CIDR($0)! }

    public var deny: [CIDR]
    public var allow: [CIDR]

    public init(deny: [CIDR] = AddressPolicy.defaultDeny, allow: [CIDR] = []) {
        self.deny = deny
        self.allow = allow
    }

    /// The platform's `notifications:` lists (validated CIDRs) on top of the addresses always denied.
    public init(platform: NotificationAddresses) {
        self.init(deny: Self.alwaysDenied + platform.deny.compactMap(CIDR.init), allow: platform.allow.compactMap(CIDR.init))
    }

    /// For tests only: the default policy with 127.0.0.1 allowed, so that fake receivers on loopback can be reached.
    public static let testingAllowsLoopback = AddressPolicy(allow: [CIDR("127.0.0.1/32")!])

    public func permits(_ address: [UInt8]) -> Bool {
        let address = IPAddress.unmapped(address)
        return allow.contains { $0.contains(address) } || !deny.contains { $0.contains(address) }
    }

    /// A URL that may be sent to, and the libcurl `HOST:PORT:ADDRESS` entry that pins it.
    public struct Pinned: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var address: String
        public var resolveEntry: String {
            "\(host):\(port):\(address.contains(":") ? "[\(address)]" : address)"
        }
    }

    /// Checks `url` (https only) and resolves its host; refuses it when any address it resolves to is forbidden.
    public func check(_ url: String) throws(DeliveryRefusal) -> Pinned {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "https",
              var host = components.host, !host.isEmpty else {
            throw DeliveryRefusal("\(Self.display(url)) is not an https:// URL with a host; notifications go to https only")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 443
        let addresses = try Self.resolve(host, port: port)
        guard let first = addresses.first else {
            throw DeliveryRefusal("\(host) resolves to no address")
        }
        for address in addresses where !permits(address) {
            throw DeliveryRefusal("\(host) resolves to \(IPAddress.text(address)), an address notifications may not be sent to (platform.yaml notifications.denyCIDRs); a receiver must be on a public address")
        }
        return Pinned(host: host, port: port, address: IPAddress.text(first))
    }

    static func resolve(_ host: String, port: Int) throws(DeliveryRefusal) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0 else {
            throw DeliveryRefusal("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var addresses: [[UInt8]] = []
        var cursor = result
        while let info = cursor?.pointee {
            if info.ai_family == AF_INET, let raw = info.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { var a = $0.pointee.sin_addr; addresses.append(withUnsafeBytes(of: &a) { Array($0) }) }
            } else if info.ai_family == AF_INET6, let raw = info.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { var a = $0.pointee.sin6_addr; addresses.append(IPAddress.unmapped(withUnsafeBytes(of: &a) { Array($0) })) }
            }
            cursor = info.ai_next
        }
        var seen = Set<[UInt8]>()
        return addresses.filter { seen.insert($0).inserted }
    }

    /// A URL as it may be shown: without its query or user info (where tokens hide).
    static func display(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "the URL" }
        components.query = nil
        components.user = nil
        components.password = nil
        return components.string ?? "the URL"
    }
}

/// A notification that will not be sent, and why (the address policy, a bad URL).
public struct DeliveryRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
