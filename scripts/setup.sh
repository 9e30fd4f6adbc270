#!/usr/bin/env bash
# Installs what Tenantry needs on a Debian machine, idempotently: the C libraries it links
# (through apt-get), kubectl (the example and the kubectl tests drive the local cluster with it) and
# the Python tools its tests use to check rendered objects (through pip).
# Sourced by run-example.sh and test.sh; safe to run again and again.
set -euo pipefail

# chromium and chromium-driver: the web UI's browser test (WebUIBrowserTests, through selenium).
TENANTRY_APT_PACKAGES=(git pkg-config libyaml-dev libssl-dev libgit2-dev libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev chromium chromium-driver)

tenantry_install_system_packages() {
    local missing=()
    for package in "${TENANTRY_APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "==> C libraries already installed (${TENANTRY_APT_PACKAGES[*]})"
        return
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> Installing C libraries with apt-get: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# kubectl: kept when present; else the `kubectl` package when a configured repository offers one (pkgs.k8s.io,
# Google Cloud), else Debian's own `kubernetes-client` (older: 1.20 on bookworm).
tenantry_install_kubectl() {
    if command -v kubectl >/dev/null; then
        echo "==> kubectl already installed ($(kubectl version --client 2>/dev/null | head -n 1))"
        return
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    local package=kubernetes-client
    if apt-cache policy kubectl 2>/dev/null | grep -Eq "Candidate: [0-9]"; then package=kubectl; fi
    echo "==> Installing kubectl with apt-get: $package"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null
    if ! command -v kubectl >/dev/null; then
        echo "error: apt-get installed $package but kubectl is not on PATH; install kubectl 1.27 or later (https://kubernetes.io/docs/tasks/tools/)" >&2
        exit 2
    fi
    echo "==> kubectl installed ($(kubectl version --client 2>/dev/null | head -n 1))"
}

tenantry_install_test_tools() {
    if python3 -c "import kubernetes_validate, jsonschema, yaml, openapi_spec_validator, moto, boto3, flask_cors, schemathesis, selenium" 2>/dev/null \
        && command -v kubernetes-validate >/dev/null && command -v moto_server >/dev/null && command -v schemathesis >/dev/null; then
        echo "==> Python test tools already installed (kubernetes-validate, jsonschema, PyYAML, openapi-spec-validator, moto[server], schemathesis, selenium)"
        return
    fi
    echo "==> Installing Python test tools with pip: kubernetes-validate (official Kubernetes schemas), jsonschema, PyYAML, openapi-spec-validator, moto[server] (an S3 server for the artifact store tests), schemathesis (the Sessions API against its contract), selenium (drives chromium in the web UI's browser test)"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore kubernetes-validate jsonschema pyyaml openapi-spec-validator 'moto[server]' schemathesis selenium
}

tenantry_check_swift() {
    if ! command -v swift >/dev/null; then
        echo "error: the Swift 6 toolchain is not on PATH; install it from swift.org (Tenantry needs Swift 6.0 or later)" >&2
        exit 2
    fi
}
