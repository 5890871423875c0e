#!/usr/bin/env bash
# Install the dev dependencies and run the whole test suite (CI runs exactly this).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
# Browser tests: Debian's Chromium (Playwright's own browser download cannot work here),
# a CJK font (without one every Chinese character is an empty box) and an emoji font;
# LibreOffice Impress and poppler render the lesson slides to images (pptx -> pdf -> png).
BROWSER_PACKAGES="chromium fonts-wqy-microhei fonts-noto-color-emoji libreoffice-impress-nogui poppler-utils"
if ! dpkg -s $BROWSER_PACKAGES >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y --no-install-recommends $BROWSER_PACKAGES \
    || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends $BROWSER_PACKAGES; }
fi
pip install --quiet -e '.[dev]'
ruff check .
python -m pytest "$@"
