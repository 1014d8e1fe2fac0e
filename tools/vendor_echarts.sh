#!/bin/sh
# Vendor Apache ECharts from the npm registry into app/static (the data center's charts; no CDN at run time).
#   tools/vendor_echarts.sh [version]      (default: the version pinned below; commit the result)
set -eu
VERSION="${1:-6.1.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack "echarts@$VERSION" --silent >/dev/null
tar -xzf "echarts-$VERSION.tgz"
mkdir -p "$ROOT/app/static/vendor/echarts"
cp package/dist/echarts.min.js "$ROOT/app/static/vendor/echarts/echarts.min.js"
cp package/LICENSE "$ROOT/app/static/vendor/echarts/LICENSE"
echo "$VERSION" > "$ROOT/app/static/vendor/echarts/VERSION"
echo "ECharts $VERSION -> app/static/vendor/echarts/echarts.min.js"
