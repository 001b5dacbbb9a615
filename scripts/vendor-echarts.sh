#!/usr/bin/env bash
# Fetch ECharts from the npm registry and place echarts.min.js (and its licence) in the reports app's static
# folder: government intranets have no internet, so the app serves every asset itself.
set -euo pipefail
VERSION="${1:-6.1.0}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/banli/reports/static/reports/vendor/echarts"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "echarts@$VERSION" >/dev/null && tar -xzf "echarts-$VERSION.tgz")
mkdir -p "$DEST"
cp "$TMP/package/dist/echarts.min.js" "$DEST/echarts.min.js"
cp "$TMP/package/LICENSE" "$DEST/LICENSE"
echo "$VERSION" > "$DEST/VERSION"
echo "ECharts $VERSION → $DEST"
