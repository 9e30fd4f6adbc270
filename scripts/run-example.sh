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
