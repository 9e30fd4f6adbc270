import Foundation
import Model
import XCTest

/// What kubectl users tripped on (issue 12), tried with the installed kubectl.
extension KubectlTests {
    func testWrongTypedConfigMapIsRefusedByCreateAndApply() throws {
        let manifest = try write("typed.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {a: 1}\n")
        let expected = "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
        for arguments in [["create", "-f", manifest], ["apply", "-f", manifest], ["apply", "--server-side", "-f", manifest]] {
            let result = kubectl.run(["--kubeconfig", cluster.server.kubeconfigPath] + arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains("Error from server (BadRequest)"), result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
        }
        let unknown = try write("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unknown}\ndata: {a: b}\nspec: {x: 1}\n")
        let strict = run("apply", "-f", unknown)
        XCTAssertEqual(strict.status, 1)
        XCTAssertTrue(strict.stderr.contains("strict decoding error: unknown field \"spec\""), strict.stderr)
        let warned = run("apply", "--validate=warn", "-f", unknown)
        XCTAssertEqual(warned.status, 0, warned.stderr)
        XCTAssertTrue(warned.stderr.contains("unknown field \"spec\""), warned.stderr)
        XCTAssertEqual(run("get", "configmaps", "-o", "name").stdout, "configmap/unknown\n")
    }

    func testPatchTypeJSON() throws {
        XCTAssertEqual(run("create", "configmap", "patched", "--from-literal=a=1").status, 0)
        let patched = run("patch", "configmap", "patched", "--type", "json", "-p",
                          #"[{"op":"test","path":"/data/a","value":"1"},{"op":"add","path":"/data/b","value":"2"},{"op":"add","path":"/metadata/labels","value":{"app.kubernetes.io/name":"x"}}]"#)
        XCTAssertEqual(patched.status, 0, patched.stderr)
        XCTAssertEqual(patched.stdout, "configmap/patched patched\n")
        XCTAssertEqual(run("get", "configmap", "patched", "-o", "jsonpath={.data.b} {.metadata.labels.app\\.kubernetes\\.io/name}").stdout, "2 x")
        let failed = run("patch", "configmap", "patched", "--type", "json", "-p", #"[{"op":"test","path":"/data/a","value":"nope"}]"#)
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(failed.stderr, "The request is invalid: the server rejected our request due to an error in our request\n")
    }

    /// `kubectl apply` then `kubectl apply --server-side` of a changed object: kubectl migrates the
    /// client-side manager's fields (a JSON Patch of managedFields) and the server lets `kubectl` take
    /// fields still as last applied, so there is no conflict; then back to client-side apply.
    func testClientSideThenServerSideApplyWithoutConflicts() throws {
        let first = try write("migrate.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: migrate\n  labels: {app: x}\ndata:\n  a: \"1\"\n  b: \"1\"\n")
        XCTAssertEqual(run("apply", "-f", first).stdout, "configmap/migrate created\n")
        let second = try write("migrate2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: migrate\n  labels: {app: x}\ndata:\n  a: \"2\"\n")
        let server = run("apply", "--server-side", "-f", second)
        XCTAssertEqual(server.status, 0, server.stderr)
        XCTAssertEqual(server.stdout, "configmap/migrate serverside-applied\n")
        XCTAssertEqual(run("get", "configmap", "migrate", "-o", "jsonpath={.data}").stdout, #"{"a":"2"}"#)
        let managers = run("get", "configmap", "migrate", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
        XCTAssertFalse(managers.stdout.contains("kubectl-client-side-apply"), managers.stdout)
        let annotation = run("get", "configmap", "migrate", "-o", #"jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}"#)
        XCTAssertTrue(annotation.stdout.contains(#""data":{"a":"2"}"#), annotation.stdout)
        // And a second server-side apply of the same file changes nothing.
        XCTAssertEqual(run("apply", "--server-side", "-f", second).status, 0)
    }

    /// kubectl's default prune list names kinds such as Deployment and Endpoints; they are served, so
    /// no --prune-allowlist is needed.
    func testApplyPruneBySelectorWithoutAnAllowList() throws {
        let both = try write("both.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: kept, labels: {app: pruned}}
            data: {a: b}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: dropped, labels: {app: pruned}}
            data: {a: b}
            """)
        let first = run("apply", "--prune", "-l", "app=pruned", "-f", both)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, "configmap/kept created\nconfigmap/dropped created\n")
        let one = try write("one.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, labels: {app: pruned}}\ndata: {a: b}\n")
        let pruned = run("apply", "--prune", "-l", "app=pruned", "-f", one)
        XCTAssertEqual(pruned.status, 0, pruned.stderr)
        XCTAssertEqual(pruned.stdout, "configmap/kept unchanged\nconfigmap/dropped pruned\n")
        XCTAssertEqual(run("get", "configmaps", "-o", "name").stdout, "configmap/kept\n")
    }

    /// kubectl explain reads the official schemas through OpenAPI v3, and v2 (protobuf) on request.
    func testExplainThroughBothOpenAPIVersions() {
        let v3 = run("explain", "pod.spec.containers.ports")
        XCTAssertEqual(v3.status, 0, v3.stderr)
        XCTAssertTrue(v3.stdout.contains("containerPort\t<integer> -required-"), v3.stdout)
        let v2 = run("explain", "--output=plaintext-openapiv2", "configmap")
        XCTAssertEqual(v2.status, 0, v2.stderr)
        XCTAssertTrue(v2.stdout.contains("data\t<map[string]string>"), v2.stdout)
    }
}

extension KubectlTests {
    private func recordEvent(_ name: String, kind: String, apiVersion: String, object: String, reason: String, message: String) throws {
        let uid = run("get", kind.lowercased(), object, "-o", "jsonpath={.metadata.uid}").stdout
        let event = try write("\(name).yaml", """
            apiVersion: v1
            kind: Event
            metadata: {name: \(name)}
            involvedObject: {apiVersion: \(apiVersion), kind: \(kind), name: \(object), namespace: default, uid: \(uid)}
            reason: \(reason)
            message: \(message)
            type: Normal
            source: {component: tenantry}
            firstTimestamp: "2026-12-01T09:00:00Z"
            lastTimestamp: "2026-12-01T09:00:00Z"
            count: 1
            """)
        let created = run("create", "-f", event)
        XCTAssertEqual(created.status, 0, created.stderr)
    }

    func testDescribeConfigMapAndSessionShowTheirEvents() throws {
        XCTAssertEqual(run("create", "configmap", "described", "--from-literal=a=b").status, 0)
        try recordEvent("described.1", kind: "ConfigMap", apiVersion: "v1", object: "described", reason: "Synced", message: "the config was synced")
        let described = run("describe", "configmap", "described")
        XCTAssertEqual(described.status, 0, described.stderr)
        XCTAssertTrue(described.stdout.contains("Events:"), described.stdout)
        XCTAssertTrue(described.stdout.range(of: #"Normal\s+Synced\s+\S+\s+tenantry\s+the config was synced"#, options: .regularExpression) != nil, described.stdout)

        XCTAssertEqual(run("apply", "--server-side", "-f", try write("crd.json", sessionDefinition().compactText)).status, 0)
        XCTAssertEqual(run("apply", "--server-side", "-f", try write("s.json", session("s1", agent: "claude").compactText)).status, 0)
        try recordEvent("s1.1", kind: "Session", apiVersion: "tenantry.dev/v1alpha1", object: "s1", reason: "Started", message: "the runner started")
        let session = run("describe", "session", "s1")
        XCTAssertEqual(session.status, 0, session.stderr)
        XCTAssertTrue(session.stdout.contains("Kind:         Session"), session.stdout)
        XCTAssertTrue(session.stdout.range(of: #"Normal\s+Started\s+\S+\s+tenantry\s+the runner started"#, options: .regularExpression) != nil, session.stdout)
        XCTAssertFalse(session.stdout.contains("the config was synced"), session.stdout)
    }

    func testEventsFor() throws {
        XCTAssertEqual(run("create", "configmap", "watched", "--from-literal=a=b").status, 0)
        XCTAssertEqual(run("create", "configmap", "other", "--from-literal=a=b").status, 0)
        try recordEvent("watched.1", kind: "ConfigMap", apiVersion: "v1", object: "watched", reason: "Synced", message: "about watched")
        try recordEvent("other.1", kind: "ConfigMap", apiVersion: "v1", object: "other", reason: "Synced", message: "about other")
        let events = run("events", "--for", "configmap/watched")
        XCTAssertEqual(events.status, 0, events.stderr)
        XCTAssertTrue(events.stdout.hasPrefix("LAST SEEN"), events.stdout)
        XCTAssertTrue(events.stdout.range(of: #"Normal\s+Synced\s+ConfigMap/watched\s+about watched"#, options: .regularExpression) != nil, events.stdout)
        XCTAssertFalse(events.stdout.contains("about other"), events.stdout)
    }
}

extension KubectlTests {
    func testGetShowKindTablesHaveTheBuiltInColumns() throws {
        let objects = try write("objects.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              nodeName: elsewhere  # bound to a node that is not the local one: no kubelet runs it, it stays Pending
              containers: [{name: c, image: nginx}]
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: once}
            spec:
              template:
                spec:
                  nodeName: elsewhere
                  containers: [{name: c, image: busybox}]
                  restartPolicy: Never
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: viewers}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects: [{kind: User, name: alice}]
            """)
        XCTAssertEqual(run("apply", "-f", objects).status, 0)
        let shown = run("get", "pods,jobs,rolebindings", "--show-kind")
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let lines = shown.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        // Ages and the Job's duration vary, and so does the name of the Job's Pod.
        XCTAssertEqual(lines.filter { !$0.isEmpty }.map {
            $0.replacingOccurrences(of: #"(?<= )\d+s(?= |$)"#, with: "AGE", options: .regularExpression)
                .replacingOccurrences(of: #"pod/once-[a-z0-9]{5}"#, with: "pod/once-XXXXX", options: .regularExpression)
        }, [
            "NAME READY STATUS RESTARTS AGE", "pod/once-XXXXX 0/1 Pending 0 AGE", "pod/web 0/1 Pending 0 AGE",
            "NAME STATUS COMPLETIONS DURATION AGE", "job.batch/once Running 0/1 AGE AGE",
            "NAME ROLE AGE", "rolebinding.rbac.authorization.k8s.io/viewers ClusterRole/view AGE",
        ], shown.stdout)
    }
}
