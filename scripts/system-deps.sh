#!/usr/bin/env bash
# Install the Debian packages the tests need (headless Chromium, CJK fonts, LibreOffice) when missing.
# Never downloads a browser of its own: Playwright drives Debian's chromium-headless-shell and /usr/bin/chromium.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v chromium-headless-shell >/dev/null 2>&1 || need+=(chromium-headless-shell)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
