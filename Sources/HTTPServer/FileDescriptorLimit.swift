import Foundation

/// Raises the process's soft limit of open files to its hard limit, once: each connection is a descriptor, and the
/// usual soft limit (1,024) is far below the connections a server must hold.
enum FileDescriptorLimit {
    /// The soft limit after raising it.
    static let raised: Int = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var wanted = limit
            wanted.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 { limit = wanted }
        }
        return limit.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }()
}
