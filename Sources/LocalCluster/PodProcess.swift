import CTenantry
import Foundation

/// One container's process on the host: spawned in its own process group (so signalling the group
/// reaches every process it started), with every signal at its default disposition and an empty mask
/// (the cluster ignores SIGTERM itself; a container must not inherit that), stdin from /dev/null,
/// stdout and stderr into pipes, and no other descriptor of the server.
struct PodProcess: Sendable {
    struct Launch: Sendable, Equatable {
        var executable: String
        var arguments: [String]
        var environment: [String]
        var workingDirectory: String
    }

    enum Exit: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)

        /// The container exit code Kubernetes reports: the status, or 128 + the signal.
        var exitCode: Int { switch self { case .exited(let code): Int(code); case .signaled(let signal): 128 + Int(signal) } }
    }

    let pid: pid_t
    let stdout: Int32
    let stderr: Int32

    static func spawn(_ launch: Launch) throws -> PodProcess {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard ctenantry_pipe_cloexec(&out) == 0 else { throw SpawnError(message: "pipe: \(String(cString: strerror(errno)))") }
        guard ctenantry_pipe_cloexec(&err) == 0 else {
            let message = String(cString: strerror(errno))
            close(out[0]); close(out[1])
            throw SpawnError(message: "pipe: \(message)")
        }
        defer { close(out[1]); close(err[1]) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        var noSignal = sigset_t()
        sigemptyset(&noSignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        ctenantry_spawn_addchdir(&actions, launch.workingDirectory)
        ctenantry_spawn_addclosefrom(&actions, 3)

        let argv = ([launch.executable.split(separator: "/").last.map(String.init) ?? launch.executable] + launch.arguments).map { strdup($0) }
        let envp = launch.environment.map { strdup($0) }
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, launch.executable, &actions, &attributes, argv + [nil], envp + [nil])
        guard result == 0 else {
            close(out[0]); close(err[0])
            throw SpawnError(message: String(cString: strerror(result)))
        }
        return PodProcess(pid: pid, stdout: out[0], stderr: err[0])
    }

    /// Blocks until the group leader exits.
    func waitForExit() -> Exit {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(255) }
        }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// Signals every process of the group (the leader may already be gone; the rest still get it). SIGKILL also
    /// reaches every descendant of the leader in other groups (an agent its runner started in a group of its own),
    /// as the kubelet's cgroup kill does on a real node: nothing a container started outlives it.
    static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        if signal == SIGKILL {
            for descendant in descendants(of: pid) {
                kill(-descendant, SIGKILL)
                kill(descendant, SIGKILL)
            }
        }
        kill(-pid, signal)
    }

    /// The processes below `pid` (children, theirs, …), from `/proc`.
    static func descendants(of pid: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command name: state, then the parent's pid.
            if fields.count > 1, let parent = pid_t(fields[1]) { children[parent, default: []].append(child) }
        }
        var found: [pid_t] = []
        var next = children[pid] ?? []
        while let process = next.popLast() {
            found.append(process)
            next += children[process] ?? []
        }
        return found
    }

    /// The kernel's start time of a process (clock ticks since boot), to tell a recorded pid from a reused one.
    static func startTime(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, starttime field 22.
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// The executable for a command, looked up in the container's PATH when it has no slash.
    static func resolve(_ command: String, path: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

struct SpawnError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
