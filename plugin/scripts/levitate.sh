#!/bin/sh
# API compatibility of the built panel's imports with released @grafana packages, checked by
# @grafana/levitate against each version given (default: 12.4.10 and 13.2.3, the newest 12.4 and
# 13.x on npm when this was written). Exits non-zero on an incompatibility.
#
# Why a throwaway folder: levitate finds the installed @grafana versions with `npm list` next to
# the file it checks, and in this npm workspace they are listed under the plugin, not at the top,
# so run on plugin/src/module.ts it skips every package and still says "compatible". Here a
# folder declares them at the top and links the installed node_modules; the file it checks
# re-exports src/module.ts, so every @grafana import of the plugin is compared.
set -eu
plugin=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
built=$(node -p "require('$plugin/package.json').dependencies['@grafana/data']")
printf '{"name":"levitate-check","version":"0.0.0","private":true,"dependencies":{"@grafana/data":"%s","@grafana/ui":"%s","@grafana/runtime":"%s"}}\n' "$built" "$built" "$built" >"$tmp/package.json"
ln -s "$plugin/../node_modules" "$tmp/node_modules"
printf "export * from '%s/src/module';\n" "$plugin" >"$tmp/module.ts"
status=0
for v in ${*:-12.4.10 13.2.3}; do
  echo "== @grafana/* $built (built against) → $v"
  npx -y @grafana/levitate@0.17.2 is-compatible --path "$tmp/module.ts" --target "@grafana/data@$v,@grafana/ui@$v,@grafana/runtime@$v" || status=1
done
exit $status
