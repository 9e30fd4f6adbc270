#!/usr/bin/env bash
# The main job, end to end on examples/tenants against the embedded target (the local cluster):
# the tenant repo is published as a git repository, fetched with libgit2, validated, rendered,
# applied with server-side apply, and the status report is committed back to the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

tenantry_check_swift
tenantry_install_system_packages
tenantry_install_kubectl
echo "==> Building tenantry (release)"
swift build -c release --product tenantry >/dev/null
tenantry="$(pwd)/.build/release/tenantry"

work="$(pwd)/.build/example"
rm -rf "$work" && mkdir -p "$work"
# The example's local cluster lives in the build folder, not in ~/.tenantry.
export TENANTRY_CLUSTER_DIR="$work/cluster"
kubeconfig="$TENANTRY_CLUSTER_DIR/kubeconfig"

echo "==> Publishing examples/tenants as a git repository ($work/origin.git)"
git init -q --bare "$work/origin.git"
git init -q -b main "$work/publish"
cp -R examples/tenants/. "$work/publish/"
git -C "$work/publish" add -A
git -C "$work/publish" -c user.name="Example Platform Team" -c user.email="platform@example.com" commit -q -m "Tenants of the example platform"
git -C "$work/publish" push -q "$work/origin.git" main
cat > "$work/tenantry.yaml" <<YAML
source:
  url: $work/origin.git
  branch: main
  cache: $work/cache
status:
  path: status
  author: {name: Tenantry Example, email: tenantry@example.com}
YAML

echo "==> tenantry validate examples/tenants"
"$tenantry" validate examples/tenants

echo "==> tenantry cluster start (the local cluster: a Kubernetes-compatible API server on SQLite, not a production cluster)"
"$tenantry" cluster start >"$work/cluster.log" 2>&1 &
cluster_pid=$!
trap 'kill "$cluster_pid" 2>/dev/null; wait "$cluster_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    [ -f "$kubeconfig" ] && kubectl --kubeconfig "$kubeconfig" get --raw /version >/dev/null 2>&1 && break
    sleep 0.2
done
kubectl --kubeconfig "$kubeconfig" get --raw /version >/dev/null || { cat "$work/cluster.log"; exit 1; }

echo "==> tenantry reconcile: fetch → render → apply → status report committed back"
"$tenantry" reconcile --config "$work/tenantry.yaml" --kubeconfig "$kubeconfig"

echo "==> tenantry reconcile again: nothing changed, so nothing is written"
"$tenantry" reconcile --config "$work/tenantry.yaml" --kubeconfig "$kubeconfig" >"$work/second-reconcile.txt"
echo "    $(grep -c " unchanged$" "$work/second-reconcile.txt") objects unchanged, $(grep -vc " unchanged$" "$work/second-reconcile.txt" || true) otherwise"

echo "==> kubectl get, against the local cluster"
kubectl --kubeconfig "$kubeconfig" get namespaces -l app.kubernetes.io/managed-by=tenantry -L tenantry.dev/tenant
kubectl --kubeconfig "$kubeconfig" get namespacepolicies -A
kubectl --kubeconfig "$kubeconfig" get rolebindings -n payments-staging

echo "==> The status report committed back (git show main:status/README.md)"
git --git-dir "$work/origin.git" log --format='    %h %an: %s' -n 2 main
git --git-dir "$work/origin.git" show main:status/README.md

echo "==> tenantry render: the same manifests as files under out/"
"$tenantry" render examples/tenants --out out

echo "==> An invalid tenant is reported and left out while the others render:"
"$tenantry" validate examples/invalid/namespace-claimed-twice || true

echo "==> A session that really runs: signed GitHub delivery → Session → Job → Pod → Running → Completed"
# The docs tenant switches to the platform's script runner (a shell command the platform registers), so its
# session runs on this machine: on the embedded cluster a container is its command, here `tenantry runner`.
git -C "$work/publish" pull -q --ff-only "$work/origin.git" main
sed -i 's/^routing:/  runner:\n    type: script\n    version: "0.1.0"\nrouting:/' "$work/publish/tenants/docs.yaml"
git -C "$work/publish" -c user.name="Example Platform Team" -c user.email="platform@example.com" commit -q -am "docs: the script runner"
git -C "$work/publish" push -q "$work/origin.git" main
"$tenantry" reconcile --config "$work/tenantry.yaml" --kubeconfig "$kubeconfig" >/dev/null
# The model credentials Secret is named by the platform and created by hand, never kept in git.
kubectl --kubeconfig "$kubeconfig" -n docs create secret generic model-credentials --from-literal=api-key=unused-by-script >/dev/null
# The trigger's repository, acme/handbook, is cloned by the runner from a local origin (only loopback here).
git init -q -b main "$work/git-seed"
echo "# Handbook" >"$work/git-seed/README.md"
git -C "$work/git-seed" add -A
git -C "$work/git-seed" -c user.name="Docs" -c user.email="docs@example.com" commit -q -m "Handbook"
git clone -q --bare "$work/git-seed" "$work/git/acme/handbook.git"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/github-secret"
"$tenantry" serve "$work/publish" --controller --port 0 --kubeconfig "$kubeconfig" --journal "$work/journal.db" \
    --secret-file github="$work/github-secret" --refresh-interval 1 --git-base-url "$work/git" >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true; kill "$cluster_pid" 2>/dev/null; wait "$cluster_pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
    port="$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.out")"
    [ -n "$port" ] && break
    sleep 0.2
done
[ -n "$port" ] || { cat "$work/serve.log"; exit 1; }
python3 - examples/webhooks/github/issues.labeled.json >"$work/delivery.json" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
body["repository"]["full_name"] = "acme/handbook"
body["repository"]["name"] = "handbook"
body["repository"]["owner"]["login"] = "acme"
body["label"]["name"] = "agent"
print(json.dumps(body))
PY
signature="sha256=$(openssl dgst -sha256 -hmac "$(cat "$work/github-secret")" <"$work/delivery.json" | sed 's/^.* //')"
curl -sS -X POST "http://127.0.0.1:$port/api/v1/webhooks/github" -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: issues' -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" -H "X-Hub-Signature-256: $signature" \
    --data-binary @"$work/delivery.json"
echo
phase=""
for _ in $(seq 1 300); do
    phase="$(kubectl --kubeconfig "$kubeconfig" -n docs get sessions -o jsonpath='{.items[0].status.phase}' 2>/dev/null || true)"
    case "$phase" in Completed|Failed|Stopped) break ;; esac
    sleep 0.2
done
kubectl --kubeconfig "$kubeconfig" -n docs get sessions
session="$(kubectl --kubeconfig "$kubeconfig" -n docs get sessions -o jsonpath='{.items[0].metadata.name}')"
[ "$phase" = Completed ] || { echo "session $session ended $phase"; cat "$work/serve.log"; exit 1; }
echo "    status: $(kubectl --kubeconfig "$kubeconfig" -n docs get session "$session" -o jsonpath='{.status.reason} {.status.summary}; cost {.status.cost.actual} {.status.cost.currency}')"
echo "    history: $(kubectl --kubeconfig "$kubeconfig" -n docs get session "$session" -o jsonpath='{.status.history[*].event}')"
kubectl --kubeconfig "$kubeconfig" -n docs get jobs,pods
echo "==> kubectl logs job/$session-run"
kubectl --kubeconfig "$kubeconfig" -n docs logs "job/$session-run"
echo "==> The budget ledger of record: NamespacePolicy docs/policy status.budget"
kubectl --kubeconfig "$kubeconfig" -n docs get namespacepolicy policy -o jsonpath='{.status.budget}'
echo
grep "session docs/" "$work/serve.log" | sed 's/^/    /' || true

echo "==> The Sessions API: the runner's upload, listed for the docs admin (a local cluster token), and the audit trail"
admin_token="$("$tenantry" cluster token --user maria@acme.example)"
artifacts="$(curl -sS -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$port/api/v1/namespaces/docs/sessions/$session/artifacts")"
echo "    $artifacts"
case "$artifacts" in *'"name":"runner.log"'*) ;; *) echo "the runner's log was not uploaded"; cat "$work/serve.log"; exit 1 ;; esac
curl -sS -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$port/api/v1/namespaces/docs/audit" | python3 -c '
import json, sys
for entry in reversed(json.load(sys.stdin)["entries"]):
    print("    %s %s %s %s" % (entry["actor"], entry["action"], entry["resource"], entry["outcome"]))'

echo "==> The status report's session counts (reconcile again; the controller keeps them in NamespacePolicy status)"
kubectl --kubeconfig "$kubeconfig" -n docs get namespacepolicy policy -o jsonpath='    activeSessions {.status.activeSessions}, by phase {.status.sessions}'
echo
"$tenantry" reconcile --config "$work/tenantry.yaml" --kubeconfig "$kubeconfig" >/dev/null 2>&1
git --git-dir "$work/origin.git" show main:status/status.json | python3 -c '
import json, sys
for tenant in json.load(sys.stdin)["tenants"]:
    print("    %s: %s" % (tenant["name"], tenant.get("sessions")))'
