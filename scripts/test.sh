#!/usr/bin/env bash
# Runs Tenantry's whole test suite: installs what it needs (C libraries with apt-get update / apt-get install,
# Python checkers with pip: see scripts/setup.sh), builds, runs `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

tenantry_check_swift
tenantry_install_system_packages
tenantry_install_kubectl
tenantry_install_test_tools
echo "==> Checking the module graph (scripts/check-imports.sh)"
bash scripts/check-imports.sh
echo "==> Building and running the tests (swift test, XCTest)"
swift build --build-tests
log=.build/test-output.txt
status=0
swift test --disable-swift-testing 2>&1 | tee "$log" || status=$?
# One plain closing line with the totals of XCTest's last summary.
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1 || true)
executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -n "$summary" ]; then
    echo "tests: $((executed - failed)) passed, $failed failed"
fi
exit "$status"
