#!/usr/bin/env bash
# Install what the tests need (CPU torch first, the package with its JS bundle, headless Chromium)
# and run the whole suite. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[test]"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
(cd js && npm test)
python -m pytest "$@"
