import Foundation
import Model
import XCTest

/// Jobs and Pods that really run on the local node, driven by the installed kubectl over TLS.
final class WorkloadKubectlTests: XCTestCase {
    var cluster: TestCluster!
    var kubectl: Kubectl!

    override func setUpWithError() throws {
        guard let found = Kubectl.find() else { throw XCTSkip("kubectl is not installed") }
        kubectl = found
        cluster = try TestCluster(tls: true) { options in
            // Kubernetes waits 10 s, then 20 s, before replacing a failed Pod; the tests need not.
            options.jobBackoffSeconds = 0.1
            options.crashLoopBackOffSeconds = 0.1
            options.serviceAccountToken = { namespace, account, pod, _, audiences in
                "token-for-\(namespace)-\(account)-\(pod)" + audiences.map { "-for-" + $0 }.joined()
            }
        }
    }

    override func tearDown() { cluster?.stop() }

    @discardableResult
    private func run(_ arguments: String...) -> Kubectl.Result {
        kubectl.run(["--kubeconfig", cluster.server.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache"] + arguments)
    }

    private func apply(_ yaml: String) throws {
        let path = cluster.directory + "/manifest-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let result = run("apply", "-f", path)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    private func podsOf(_ job: String) -> [String] {
        run("get", "pods", "-l", "job-name=\(job)", "-o", "jsonpath={.items[*].metadata.name}").stdout.split(separator: " ").map(String.init)
    }

    private func field(_ resource: String, _ path: String) -> String { run("get", resource, "-o", "jsonpath=\(path)").stdout }

    /// The pid of a Pod's container process, read from its containerID once it runs.
    private func runningPID(_ job: String) -> pid_t? {
        var pid: pid_t?
        _ = eventually {
            guard let pod = podsOf(job).first else { return false }
            let id = field("pod/\(pod)", "{.status.containerStatuses[0].containerID}")
            pid = id.hasPrefix("tenantry-host://") ? pid_t(id.dropFirst("tenantry-host://".count)) : nil
            return pid != nil
        }
        return pid
    }

    func testACreatedJobCompletesAndItsLogsSayHi() {
        let created = run("create", "job", "hello", "--image=x", "--", "sh", "-c", "echo hi; exit 0")
        XCTAssertEqual(created.status, 0, created.stderr)
        let waited = run("wait", "--for=condition=complete", "job/hello", "--timeout=120s")
        XCTAssertEqual(waited.status, 0, waited.stderr)
        XCTAssertEqual(waited.stdout, "job.batch/hello condition met\n")
        let logs = run("logs", "job/hello")
        XCTAssertEqual(logs.stdout, "hi\n", logs.stderr)
        XCTAssertEqual(field("job/hello", "{.status.succeeded}"), "1")
        XCTAssertEqual(field("job/hello", "{.status.conditions[*].type}"), "SuccessCriteriaMet Complete")
        let pod = podsOf("hello").first ?? ""
        XCTAssertEqual(field("pod/\(pod)", "{.status.phase}"), "Succeeded")
        XCTAssertEqual(field("pod/\(pod)", "{.status.containerStatuses[0].state.terminated.reason}"), "Completed")
        XCTAssertEqual(field("pod/\(pod)", "{.spec.nodeName}"), "local-node")
        XCTAssertEqual(field("node/local-node", "{.status.conditions[0].type}={.status.conditions[0].status}"), "Ready=True")
    }

    func testAFailingJobRetriesUpToItsBackoffLimitAndKeepsTheTerminationMessage() throws {
        try apply("""
            apiVersion: batch/v1
            kind: Job
            metadata: {name: fails}
            spec:
              backoffLimit: 2
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: x
                    command: [sh, -c, 'echo "bad input on try" > "$TENANTRY_POD_ROOT/dev/termination-log"; echo failing; exit 3']
            """)
        let waited = run("wait", "--for=condition=failed", "job/fails", "--timeout=120s")
        XCTAssertEqual(waited.status, 0, waited.stderr)
        XCTAssertEqual(podsOf("fails").count, 3)
        XCTAssertEqual(field("job/fails", "{.status.failed}"), "3")
        XCTAssertEqual(field("job/fails", "{.status.conditions[?(@.type==\"Failed\")].reason}"), "BackoffLimitExceeded")
        XCTAssertEqual(field("job/fails", "{.status.conditions[*].type}"), "FailureTarget Failed")
        for pod in podsOf("fails") {
            XCTAssertEqual(field("pod/\(pod)", "{.status.containerStatuses[0].state.terminated.exitCode}"), "3")
            XCTAssertEqual(field("pod/\(pod)", "{.status.containerStatuses[0].state.terminated.reason}"), "Error")
            XCTAssertEqual(field("pod/\(pod)", "{.status.containerStatuses[0].state.terminated.message}"), "bad input on try\n")
        }
        XCTAssertEqual(run("logs", "pod/\(podsOf("fails")[0])").stdout, "failing\n")
    }

    func testTheActiveDeadlineFailsTheJobAndEndsTheProcess() throws {
        try apply("""
            apiVersion: batch/v1
            kind: Job
            metadata: {name: slow}
            spec:
              activeDeadlineSeconds: 1
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - {name: main, image: x, command: [sleep, "30"]}
            """)
        let pid = runningPID("slow")
        let waited = run("wait", "--for=condition=failed", "job/slow", "--timeout=120s")
        XCTAssertEqual(waited.status, 0, waited.stderr)
        XCTAssertEqual(field("job/slow", "{.status.conditions[?(@.type==\"Failed\")].reason}"), "DeadlineExceeded")
        if let pid { XCTAssertTrue(processGroup(pid).isEmpty, "the container's processes are gone") }
    }

    func testLogsFollowStreamsLinesAsTheyAreWritten() throws {
        XCTAssertEqual(run("create", "job", "talker", "--image=x", "--", "sh", "-c",
                           "echo first; while [ ! -e \"$TENANTRY_POD_ROOT/next\" ]; do sleep 0.05; done; echo second").status, 0)
        XCTAssertNotNil(runningPID("talker"))
        let (process, pipe) = try kubectl.start(["--kubeconfig", cluster.server.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache",
                                                 "logs", "-f", "job/talker"])
        let reader = StreamReader(pipe)
        XCTAssertTrue(eventually { reader.text.contains("first\n") }, reader.text)
        XCTAssertFalse(reader.text.contains("second"), "the container is still waiting to write it")
        let pod = podsOf("talker")[0]
        let uid = field("pod/\(pod)", "{.metadata.uid}")
        FileManager.default.createFile(atPath: cluster.directory + "/pods/\(uid)/root/next", contents: Data())
        XCTAssertTrue(eventually { reader.text == "first\nsecond\n" }, reader.text)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "logs -f ends when the container does")
    }

    func testForegroundDeletionStopsAProcessThatIgnoresSIGTERMAndRemovesThePods() throws {
        try apply("""
            apiVersion: batch/v1
            kind: Job
            metadata: {name: stubborn}
            spec:
              template:
                spec:
                  restartPolicy: Never
                  terminationGracePeriodSeconds: 2
                  containers:
                  - {name: main, image: x, command: [sh, -c, 'trap "" TERM; sleep 300 & wait; sleep 300']}
            """)
        guard let pid = runningPID("stubborn") else { return XCTFail("the Pod never ran") }
        XCTAssertTrue(eventually { processGroup(pid).count >= 2 }, "sh and its sleep run in the container's group")
        let podFiles = cluster.directory + "/pods/" + field("pod/\(podsOf("stubborn")[0])", "{.metadata.uid}")
        XCTAssertTrue(FileManager.default.fileExists(atPath: podFiles + "/logs/main/0.log"))
        let deleted = run("delete", "job", "stubborn", "--cascade=foreground", "--timeout=120s")
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertTrue(processGroup(pid).isEmpty, "SIGKILL of the group after the grace period left nothing")
        XCTAssertEqual(run("get", "job", "stubborn").status, 1)
        XCTAssertEqual(podsOf("stubborn"), [])
        XCTAssertTrue(eventually { !FileManager.default.fileExists(atPath: podFiles) }, "the logs and files go with the Pod")
    }

    func testOrphanDeletionLeavesThePodRunning() {
        XCTAssertEqual(run("create", "job", "left", "--image=x", "--", "sleep", "300").status, 0)
        guard let pid = runningPID("left") else { return XCTFail("the Pod never ran") }
        let deleted = run("delete", "job", "left", "--cascade=orphan")
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        let pod = podsOf("left").first ?? ""
        XCTAssertTrue(eventually { self.field("pod/\(pod)", "{.metadata.ownerReferences}{.metadata.finalizers}").isEmpty })
        XCTAssertEqual(field("pod/\(pod)", "{.status.phase}"), "Running")
        XCTAssertFalse(processGroup(pid).isEmpty)
        let removed = run("delete", "pod", pod, "--grace-period=1")
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertTrue(processGroup(pid).isEmpty)
    }

    func testThePodSeesItsServiceAccountDirectoryVolumesAndEnvironment() throws {
        try apply("""
            apiVersion: v1
            kind: Secret
            metadata: {name: creds}
            stringData: {password: s3cret}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings}
            data: {mode: fast}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: reader}
            spec:
              template:
                metadata: {labels: {app: demo}}
                spec:
                  restartPolicy: Never
                  initContainers:
                  - {name: setup, image: x, command: [sh, -c, 'echo prepared > "$TENANTRY_POD_ROOT/scratch/note"'], volumeMounts: [{name: scratch, mountPath: /scratch}]}
                  containers:
                  - name: main
                    image: x
                    workingDir: /work
                    env:
                    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
                    - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
                    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
                    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                    command: [sh, -c]
                    args:
                    - |
                      cd "$TENANTRY_POD_ROOT"
                      echo "token=$(cat "$TENANTRY_SERVICEACCOUNT_DIR/token")"
                      echo "namespace=$(cat "$TENANTRY_SERVICEACCOUNT_DIR/namespace")"
                      echo "ca=$(head -1 "$TENANTRY_SERVICEACCOUNT_DIR/ca.crt")"
                      echo "env=$PASSWORD $MODE $POD_NAMESPACE $APP"
                      echo "secret=$(cat secret/password) $(stat -L -c %a secret/password)"
                      echo "config=$(cat config/mode) $(stat -L -c %a config/mode)"
                      echo "scratch=$(cat scratch/note)"
                      echo "projected=$(cat projected/token)"
                      echo "cwd=$(basename "$OLDPWD")"
                    volumeMounts:
                    - {name: secret, mountPath: /secret}
                    - {name: config, mountPath: /config}
                    - {name: scratch, mountPath: /scratch}
                    - {name: projected, mountPath: /projected}
                  volumes:
                  - {name: secret, secret: {secretName: creds}}
                  - {name: config, configMap: {name: settings}}
                  - {name: scratch, emptyDir: {}}
                  - {name: projected, projected: {sources: [{serviceAccountToken: {audience: tenantry, expirationSeconds: 3600, path: token}}]}}
            """)
        let waited = run("wait", "--for=condition=complete", "job/reader", "--timeout=120s")
        XCTAssertEqual(waited.status, 0, waited.stderr + run("get", "pods", "-o", "yaml").stdout)
        let pod = podsOf("reader").first ?? ""
        let logs = run("logs", "pod/\(pod)", "-c", "main").stdout
        XCTAssertEqual(logs, """
            token=token-for-default-default-\(pod)
            namespace=default
            ca=-----BEGIN CERTIFICATE-----
            env=s3cret fast default demo
            secret=s3cret 600
            config=fast 644
            scratch=prepared
            projected=token-for-default-default-\(pod)-for-tenantry
            cwd=work

            """)
    }

    func testAnImageWithoutACommandFailsWithAReasonThatSaysWhatToSet() throws {
        try apply("""
            apiVersion: v1
            kind: Pod
            metadata: {name: imageonly}
            spec:
              restartPolicy: Never
              containers:
              - {name: main, image: busybox, args: [echo, hi]}
            """)
        XCTAssertTrue(eventually { self.field("pod/imageonly", "{.status.phase}") == "Failed" })
        XCTAssertEqual(field("pod/imageonly", "{.status.containerStatuses[0].state.waiting.reason}"), "ErrImagePull")
        XCTAssertTrue(field("pod/imageonly", "{.status.containerStatuses[0].state.waiting.message}").contains("set command on container \"main\""))
    }
}

/// The processes whose process group is `group`, from /proc.
func processGroup(_ group: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> pid_t? in
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state, ppid, pgrp. A zombie has exited already.
        guard fields.count > 2, fields[0] != "Z", pid_t(fields[2]) == group else { return nil }
        return pid
    }
}

/// Collects a pipe's output as it arrives.
final class StreamReader: @unchecked Sendable {
    // Unchecked: `buffer` is touched only with `lock` held.
    private let lock = NSLock()
    private var buffer = Data()

    init(_ pipe: Pipe) {
        Thread { [self] in
            while true {
                let data = pipe.fileHandleForReading.availableData
                if data.isEmpty { return }
                lock.withLock { buffer.append(data) }
            }
        }.start()
    }

    var text: String { lock.withLock { String(decoding: buffer, as: UTF8.self) } }
}
