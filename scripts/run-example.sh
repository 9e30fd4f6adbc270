#!/usr/bin/env bash
# The main job, end to end on examples/tenants: the tenant repo is put in a local git repository,
# fetched with libgit2, validated and rendered into Kubernetes manifests under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

tenantry_check_swift
tenantry_install_system_packages
echo "==> Building tenantry (release)"
swift build -c release --product tenantry >/dev/null
tenantry=".build/release/tenantry"

work=".build/example"
rm -rf "$work" && mkdir -p "$work"
echo "==> Publishing examples/tenants as a git repository ($work/origin.git)"
git init -q --bare "$work/origin.git"
git init -q -b main "$work/publish"
cp -R examples/tenants/. "$work/publish/"
git -C "$work/publish" add -A
git -C "$work/publish" -c user.name="Example Platform Team" -c user.email="platform@example.com" commit -q -m "Tenants of the example platform"
git -C "$work/publish" push -q "$(pwd)/$work/origin.git" main

echo "==> tenantry source fetch (libgit2 clone into $work/cache)"
"$tenantry" source fetch --url "$(pwd)/$work/origin.git" --cache "$work/cache"
checkout="$work/cache/$(ls "$work/cache" | head -n 1)/checkout"

echo "==> tenantry validate"
"$tenantry" validate "$checkout"

echo "==> tenantry render --out out/"
"$tenantry" render "$checkout" --out out

echo "==> Done: the manifests are in out/ (one file per tenant, _platform.yaml for the CRDs and ClusterRoles)"
echo "    An invalid tenant is reported and left out while the others render, for example:"
"$tenantry" validate examples/invalid/namespace-claimed-twice || true
