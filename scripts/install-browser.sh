#!/usr/bin/env bash
# Installs the system Chromium that the browser tests (Playwright) drive, plus a
# CJK font so screenshots of Chinese answers are readable. Idempotent: does
# nothing when both are present. Never downloads a browser with
# `playwright install`: Debian's packages are used instead.
set -euo pipefail
FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
if [ -x /usr/bin/chromium ] && [ -f "$FONT" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium chromium-driver fonts-wqy-zenhei
/usr/bin/chromium --version
