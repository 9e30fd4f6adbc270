import Foundation
import Sessions

/// Where the Pod's paths are on this machine. In a real Pod they are where the spec mounts them; on the
/// embedded cluster's local node a container is a host process, and every path `P` of the Pod spec is
/// `$TENANTRY_POD_ROOT$P` (specs/local-cluster.md, "The container's paths"), so the runner maps the paths of
/// its flags and its session file under that root when the node gives one.
struct PodRoot {
    let root: String?

    init(environment: [String: String]) {
        root = environment["TENANTRY_POD_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func host(_ path: String) -> String {
        guard let root, path.hasPrefix("/"), !path.hasPrefix(root + "/") else { return path }
        return root + path
    }

    func host(_ file: SessionFile) -> SessionFile {
        var file = file
        file.workspace = host(file.workspace)
        file.files.serviceAccountToken = host(file.files.serviceAccountToken)
        file.files.modelAPIKey = file.files.modelAPIKey.map(host)
        file.files.gitToken = file.files.gitToken.map(host)
        return file
    }
}
