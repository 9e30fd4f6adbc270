#!/usr/bin/env bash
# Fails when a module imports what the architecture (the graph at the top of Package.swift) forbids:
#   - nothing below Commands imports Commands (domain modules return values; Commands composes them);
#   - Webhooks is intake only: no Plan, GitSync, Reconciler or LocalCluster (Commands injects the planner and
#     the push-triggered refresh);
#   - Reconciler does not start clusters: no LocalCluster, Webhooks or Plan;
#   - the Sessions API, Access and the session controller reach Kubernetes through Apply's client, never LocalCluster;
#   - the basics (Model, Support, HTTPClient, HTTPServer) import no domain module;
#   - WebUI never bypasses the Sessions API: no Access, Audit, SessionsAPI, Apply or Sessions (it calls the API's
#     handler in process with the user's token, so authentication and authorization are the API's).
# Usage: scripts/check-imports.sh [SOURCES_DIR]   (default: Sources next to this script)
set -euo pipefail
sources=${1:-"$(dirname "$0")/../Sources"}
domain="GitHub Render GitSync Plan LocalCluster Apply Reconciler Webhooks Sessions Artifacts Runner Notifications Access Audit SessionsAPI SessionController WebUI"
declare -A forbidden=(
    [Model]="Support HTTPClient HTTPServer $domain Commands"
    [Support]="HTTPClient HTTPServer $domain Commands"
    [HTTPClient]="Support HTTPServer $domain Commands"
    [HTTPServer]="HTTPClient $domain Commands"
    [Render]="Commands"
    [GitSync]="Commands"
    [Plan]="Commands"
    [LocalCluster]="Commands"
    [Apply]="Commands"
    [Reconciler]="LocalCluster Webhooks Plan Commands"
    [Webhooks]="Plan GitSync Reconciler LocalCluster Commands"
    [Sessions]="Commands"
    [Artifacts]="Commands"
    [Runner]="Commands"
    [Access]="Commands LocalCluster"
    [Audit]="Commands"
    [SessionsAPI]="Commands LocalCluster"
    [SessionController]="Commands LocalCluster Webhooks"
    [WebUI]="Commands LocalCluster Access Audit SessionsAPI Apply Sessions"
    [GitHub]="Plan Render GitSync Commands"
    [Notifications]="Plan Render GitSync Apply Reconciler Webhooks LocalCluster Sessions Commands"
)
problems=0
for module in "${!forbidden[@]}"; do
    [ -d "$sources/$module" ] || { echo "check-imports: no module directory $sources/$module" >&2; problems=$((problems + 1)); continue; }
    for banned in ${forbidden[$module]}; do
        # `import X`, `@testable import X`, `import struct X.Y`, `@_exported import X`: any import of module X.
        while IFS= read -r hit; do
            [ -n "$hit" ] || continue
            echo "check-imports: $hit: $module must not import $banned (see the module graph in Package.swift)" >&2
            problems=$((problems + 1))
        done < <(grep -rnE "^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import([[:space:]]+(struct|class|enum|protocol|typealias|func|var|let))?[[:space:]]+$banned(\.|[[:space:]]|$)" \
                 --include='*.swift' "$sources/$module" || true)
    done
done
if [ "$problems" -gt 0 ]; then
    echo "check-imports: $problems forbidden import(s)" >&2
    exit 1
fi
echo "check-imports: module graph respected (${#forbidden[@]} modules checked)"
