#!/usr/bin/env bash
# Runs Tenantry's whole test suite: installs what it needs, builds, runs `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

tenantry_check_swift
tenantry_install_system_packages
tenantry_install_test_tools
echo "==> Building and running the tests (swift test)"
swift build --build-tests
swift test 2>&1 | tee .build/test-output.txt
