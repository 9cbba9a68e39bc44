#!/usr/bin/env bash
# Rebuilds data/twemoji16 from the pinned npm package; see data/twemoji16/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root/tools/twemoji"
npm ci --no-audit --no-fund
cd "$root"
dotnet build -c Release src/SpriteDiffusion.Cli
dotnet src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites.dll data twemoji \
  --package tools/twemoji/node_modules/emoji-datasource-twitter \
  --out data/twemoji16 \
  --index-out out/twemoji16-index.tsv
# The same sheet with its transparency kept: (N, 16, 16, 4) straight-alpha RGBA.
dotnet src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites.dll data twemoji \
  --package tools/twemoji/node_modules/emoji-datasource-twitter \
  --alpha keep \
  --out data/twemoji16-rgba
