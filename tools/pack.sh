#!/usr/bin/env bash
# Packs the libraries (SpriteDiffusion.Engine, .Core, SpriteDiffusion) and the `sprites` tool into
# a folder that works as a NuGet feed.
#   tools/pack.sh FEED [RID ...]     RIDs of the tool packages (default: this machine's)
#   VERSION=0.9.1 tools/pack.sh ...  another version than Directory.Build.props's
# The tool is one small pointer package plus one package per platform with only that platform's
# native libraries; `dotnet tool install SpriteDiffusion.Tool` picks the right one.
set -euo pipefail
cd "$(dirname "$0")/.."
feed="${1:?usage: tools/pack.sh FEED [RID ...]}"
shift
rids="${*:-$(dotnet --info | sed -n 's/^ *RID: *//p' | head -n 1)}"
rids="${rids// /;}"
version=(${VERSION:+-p:Version="$VERSION"})
mkdir -p "$feed"
for project in src/SpriteDiffusion.Engine src/SpriteDiffusion.Core src/SpriteDiffusion; do
  dotnet pack "$project" -c Release -o "$feed" --nologo -v q "${version[@]}"
done
dotnet pack src/SpriteDiffusion.Cli -c Release -o "$feed" --nologo -v q "${version[@]}" \
  -p:RuntimeIdentifiers="$rids" -p:ToolPackageRuntimeIdentifiers="$rids"
ls -la "$feed"
