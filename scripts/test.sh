#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit and integration tests
# (integration tests create local testbeds of network namespaces, hence root).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/as-root.sh
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
