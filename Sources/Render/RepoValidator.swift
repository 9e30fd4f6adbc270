import Model
import Support

/// What became of one tenant file: its model if valid, its problems, and (after rendering) its objects.
public struct TenantResult: Sendable {
    /// The tenant's `name`, or the file's stem when the name could not be read.
    public let name: String
    public let file: String
    /// `nil` when the file has errors: such a tenant is neither rendered nor applied.
    public let tenant: Tenant?
    public let diagnostics: [Diagnostic]
    public var manifests: [Manifest] = []

    public var isValid: Bool { tenant != nil }
}

/// The repo checked file by file and across tenants.
public struct ValidatedRepo: Sendable {
    public let platform: Platform
    /// Sorted by name, then file.
    public let tenants: [TenantResult]
}

public enum RepoValidator {
    /// A broken platform file throws: nothing can be judged without it. A broken tenant only fails itself.
    public static func validate(_ repo: LoadedRepo) throws(RepoError) -> ValidatedRepo {
        guard let platformRoot = repo.platform.root else { throw RepoError(repo.platform.diagnostics) }
        let platformDecoder = FileDecoder(file: repo.platform.path)
        guard let platform = PlatformDecoder.decode(platformRoot, platformDecoder) else {
            throw RepoError(platformDecoder.diagnostics.sorted())
        }

        struct Decoded: Sendable {
            let name: String
            /// Where `name:` stands; nil when the file has no readable name (it then takes part in no name check).
            let nameMark: SourceMark?
            let file: String
            let tenant: Tenant?
            let claims: [Claim]
            let diagnostics: [Diagnostic]
        }
        let decoded = parallelMap(repo.tenants) { file -> Decoded in
            let stem = String(file.path.split(separator: "/").last!.split(separator: ".").first ?? "")
            guard let root = file.root else {
                return Decoded(name: stem, nameMark: nil, file: file.path, tenant: nil, claims: [],
                               diagnostics: file.diagnostics.map { $0.withTenant(stem) })
            }
            let declared = nameField(root)
            let decoder = FileDecoder(file: file.path, tenant: declared?.name ?? stem)
            let result = TenantDecoder.decode(root, platform: platform, decoder)
            return Decoded(name: declared?.name ?? stem, nameMark: declared?.mark, file: file.path, tenant: result.tenant, claims: result.claims,
                           diagnostics: decoder.diagnostics)
        }

        // Claims across tenants: every claimant of a contested name gets one error naming the first other
        // claimant and how many more there are, so N claimants make N short messages, not N² names.
        var extra = [[Diagnostic]](repeating: [], count: decoded.count)
        var byName: [String: [Int]] = [:]
        for (index, entry) in decoded.enumerated() where entry.nameMark != nil { byName[entry.name, default: []].append(index) }
        for indices in byName.values where indices.count > 1 {
            for index in indices {
                let others = Contest(holders: indices, of: index, owner: { $0 })
                extra[index].append(Diagnostic(file: decoded[index].file, mark: decoded[index].nameMark, field: "name",
                                               message: "tenant name \"\(decoded[index].name)\" is also used by \(decoded[others.first].file)\(others.more); tenant names must be unique",
                                               tenant: decoded[index].name))
            }
        }
        var claimants: [Claim.Kind: [String: [(index: Int, claim: Claim)]]] = [:]
        for (index, entry) in decoded.enumerated() {
            for claim in entry.claims { claimants[claim.kind, default: [:]][claim.value, default: []].append((index, claim)) }
        }
        for (kind, values) in claimants {
            for holders in values.values where Set(holders.map(\.index)).count > 1 {
                var perTenant: [Int: Int] = [:]
                for holder in holders { perTenant[holder.index, default: 0] += 1 }
                for holder in holders {
                    let others = Contest(holders: holders, of: holder.index, owner: \.index, sameOwner: perTenant[holder.index] ?? 1)
                    let first = holders[others.position]
                    // An API key hash is a secret's fingerprint: name where it clashes, not its value.
                    let what = kind == .apiKey ? "this \(kind.rawValue)" : "\(kind.rawValue) \"\(holder.claim.value)\""
                    extra[holder.index].append(Diagnostic(file: holder.claim.location.file, mark: holder.claim.location.mark,
                                                          field: holder.claim.field,
                                                          message: "\(what) is also claimed by tenant \"\(decoded[first.index].name)\" (\(first.claim.location))\(others.more); each may belong to one tenant only",
                                                          tenant: decoded[holder.index].name))
                }
            }
        }

        var tenants: [TenantResult] = []
        for (index, entry) in decoded.enumerated() {
            let diagnostics = (entry.diagnostics + extra[index]).sorted()
            let valid = !diagnostics.contains { $0.severity == .error }
            tenants.append(TenantResult(name: entry.name, file: entry.file, tenant: valid ? entry.tenant : nil, diagnostics: diagnostics))
        }
        tenants.sort { ($0.name, $0.file) < ($1.name, $1.file) }
        return ValidatedRepo(platform: platform, tenants: tenants)
    }

    /// The `name:` of a tenant file when it is a plain string, so messages can name the tenant before it is decoded.
    private static func nameField(_ root: YAMLNode) -> (name: String, mark: SourceMark)? {
        guard case .mapping(let pairs) = root.content, let node = pairs.first(where: { $0.key == "name" })?.value,
              case .string(let name) = node.resolved, !name.isEmpty else { return nil }
        return (name, node.mark)
    }
}

/// Who else holds a contested name, for one holder's message: the first holder of another tenant, and
/// ` and 9,998 more` when there are others still. O(1) per holder once the group is known.
struct Contest {
    /// Where the first other holder stands in the group, and the value `owner` gives for it.
    let position: Int
    let first: Int
    let more: String

    /// `sameOwner`: how many holders of the group belong to `owner` itself (they are not "others").
    init<T>(holders: [T], of owner: Int, owner ownerOf: (T) -> Int, sameOwner: Int = 1) {
        let position = holders.firstIndex { ownerOf($0) != owner } ?? 0
        self.position = position
        first = ownerOf(holders[position])
        let rest = holders.count - sameOwner - 1
        more = rest > 0 ? " and \(Contest.grouped(rest)) more" : ""
    }

    /// `9998` → `9,998`.
    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        var out = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}

extension Diagnostic {
    func withTenant(_ tenant: String) -> Diagnostic {
        Diagnostic(severity, file: file, mark: mark, field: field, message: message, tenant: tenant)
    }
}
