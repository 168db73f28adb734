#!/usr/bin/env bash
# Re-create src/permedhub/web/static/vendor/ from the npm packages pinned in package.json /
# package-lock.json. The copied files are committed, so neither npm nor any network is needed to
# run or test the portal; run this only to upgrade a library.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$repo/package.json" "$repo/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --ignore-scripts)
nm="$work/node_modules"
out="$repo/src/permedhub/web/static/vendor"
mkdir -p "$out"
cp "$nm/htmx.org/dist/htmx.min.js" "$out/htmx.min.js"
cp "$nm/cytoscape/dist/cytoscape.min.js" "$out/cytoscape.min.js"
cp "$nm/d3-array/dist/d3-array.min.js" "$out/d3-array.min.js"
cp "$nm/d3-geo/dist/d3-geo.min.js" "$out/d3-geo.min.js"
cp "$nm/topojson-client/dist/topojson-client.min.js" "$out/topojson-client.min.js"
# 50m keeps Malta, Singapore and the Caribbean and African island states that 110m drops.
cp "$nm/world-atlas/countries-50m.json" "$out/countries-50m.json"
# /docs (Swagger UI) from the package, not a CDN
cp "$nm/swagger-ui-dist/swagger-ui-bundle.js" "$out/swagger-ui-bundle.js"
cp "$nm/swagger-ui-dist/swagger-ui.css" "$out/swagger-ui.css"
for pkg in htmx.org cytoscape d3-array d3-geo topojson-client world-atlas swagger-ui-dist; do
  version="$(node -p "require('$nm/$pkg/package.json').version")"
  echo "$pkg $version"
done > "$out/VERSIONS.txt"
for pkg in htmx.org cytoscape d3-array d3-geo topojson-client world-atlas swagger-ui-dist; do
  lic="$(ls "$nm/$pkg" | grep -i -m1 '^licen[cs]e' || true)"
  [ -n "$lic" ] && cp "$nm/$pkg/$lic" "$out/LICENSE-$pkg.txt"
done
echo "vendored into $out"
