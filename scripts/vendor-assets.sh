#!/usr/bin/env bash
# Vendor the front-end assets from the npm registry into banli/static/vendor/ (committed to the repo).
# Government intranets have no internet: every page loads these files from the app itself.
# htmx itself comes from the django-htmx package (PyPI), served by {% htmx_script %}.
# Run again after changing a version below; it needs `npm` (only on the developer's machine, not in production).
set -euo pipefail
BOOTSTRAP=5.3.8
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/banli/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "bootstrap@$BOOTSTRAP" >/dev/null
mkdir bootstrap
tar -xzf "bootstrap-$BOOTSTRAP.tgz" -C bootstrap
rm -rf "$dest/bootstrap"
mkdir -p "$dest/bootstrap/css" "$dest/bootstrap/js"
cp bootstrap/package/dist/css/bootstrap.min.css bootstrap/package/dist/css/bootstrap.min.css.map "$dest/bootstrap/css/"
cp bootstrap/package/dist/js/bootstrap.bundle.min.js bootstrap/package/dist/js/bootstrap.bundle.min.js.map "$dest/bootstrap/js/"
cp bootstrap/package/LICENSE "$dest/bootstrap/LICENSE"
printf 'bootstrap %s\n' "$BOOTSTRAP" > "$dest/VERSIONS"
echo "vendored into $dest: $(tr '\n' ' ' < "$dest/VERSIONS")"
