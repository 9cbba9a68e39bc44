#!/usr/bin/env bash
# What a user of the packages does, checked end to end (CI runs it after the tests):
# pack into a temporary feed, install `sprites` from it with `dotnet tool install --tool-path`,
# draw sprites in an empty folder outside the repository, then build and run examples/ against
# the packed library from that feed. Prints "install check: ok" or says what failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
# A version of its own per run, so no package cached by an earlier run is taken instead; the
# global package cache forgets it again afterwards.
version="0.9.0-ci.$(date +%s)"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
trap 'rm -rf "$work"; rm -rf "$packages"/spritediffusion*/"$version"' EXIT
feed="$work/feed"
VERSION="$version" "$root/tools/pack.sh" "$feed" >/dev/null

dotnet tool install SpriteDiffusion.Tool --version "$version" --tool-path "$work/tools" --add-source "$feed" >/dev/null
mkdir -p "$work/empty"
(cd "$work/empty" && "$work/tools/sprites" sample --steps 5 --n 4 --out sprites.png >/dev/null)
test -s "$work/empty/sprites.png" || { echo "install check: the installed tool wrote no PNG"; exit 1; }

mkdir -p "$work/example" "$work/example-run"
cp "$root/examples/SpriteSheetExample/Program.cs" "$root/examples/SpriteSheetExample/SpriteSheetExample.csproj" "$work/example/"
dotnet build "$work/example" -c Release -o "$work/example/bin" --nologo -v q \
  -p:SpriteDiffusionVersion="$version" -p:RestoreAdditionalProjectSources="$feed" >/dev/null
(cd "$work/example-run" && dotnet "$work/example/bin/SpriteSheetExample.dll" sheet.png >/dev/null)
test -s "$work/example-run/sheet.png" && test -s "$work/example-run/sheet.json" \
  || { echo "install check: the example built against the packages wrote no sheet"; exit 1; }
echo "install check: ok (packages $version; tool and example ran outside the repository)"
