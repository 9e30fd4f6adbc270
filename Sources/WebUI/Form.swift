import Foundation

/// An `application/x-www-form-urlencoded` body: pairs in order (a repeated name, such as checked boxes, repeats).
struct Form: Sendable {
    let pairs: [(name: String, value: String)]

    init(_ body: Data) {
        let text = String(decoding: body.prefix(1 << 20), as: UTF8.self)
        pairs = text.split(separator: "&").compactMap { part in
            let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(halves[0]) else { return nil }
            return (name, halves.count > 1 ? decode(halves[1]) ?? "" : "")
        }
    }

    /// The first value of each name.
    var first: [String: String] {
        var out: [String: String] = [:]
        for pair in pairs where out[pair.name] == nil { out[pair.name] = pair.value }
        return out
    }

    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }
}
