#!/usr/bin/env bash
# Install the dev dependencies and run the whole test suite (CI runs exactly this).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
pip install --quiet -e '.[dev]'
ruff check .
python -m pytest "$@"
