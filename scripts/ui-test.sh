#!/usr/bin/env bash
# ui-test.sh: the real-browser test of cup's control page. Starts cup serve
# --sim, drives Debian's chromium through chromedriver (W3C WebDriver), checks
# that the LED ring follows the controls and the menu follows the device
# (API changes, custom → off), and that a server with a token asks for it.
# Saves out/ui-screenshot.png and out/ui-token-prompt.png (the token prompt).
# Needs: scripts/setup-cup.sh (go, chromium, chromium-driver).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/local/bin:$PATH"
for t in go chromedriver chromium; do
  if ! command -v "$t" >/dev/null 2>&1; then
    echo "ui-test: $t not found; run scripts/setup-cup.sh" >&2
    exit 2
  fi
done
mkdir -p "$root/out"
export CUP_UI_TEST=1 CUP_UI_SCREENSHOT="$root/out/ui-screenshot.png"
cd "$root/cup"
go test -count=1 -run '^TestUIInBrowser$' -v ./cmd/cup
echo "ui-test: screenshots at out/ui-screenshot.png and out/ui-token-prompt.png"
