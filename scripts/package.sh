#!/usr/bin/env bash
# Builds the site and packages it for course platforms into dist/ (see scripts/package.py):
# the static site, a SCORM 1.2 package, an ILIAS HTML learning module and an H5P content type.
# Usage: scripts/package.sh [--view "lang=de&prompt=Ein Hund im Park"] [--title "Diffusion Lab"]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
python3 scripts/package.py "$@"
