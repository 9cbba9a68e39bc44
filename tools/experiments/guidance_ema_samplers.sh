#!/usr/bin/env bash
# Issue 6's evidence: FID and KID (ResNet-18 features, `sprites evaluate`) against the bundled
# validation split for models trained at the same budget, unconditional against conditional with
# guidance, raw against EMA weights, and DDIM at 50 steps against DPM-Solver++ 2M at 10 and 20.
#
#   tools/experiments/guidance_ema_samplers.sh UNCOND_RUN COND_RUN [N] [OUT]
#
# UNCOND_RUN and COND_RUN are run folders of `sprites train --conditional false` and
# `sprites train` (both with the default EMA). N generated sprites per row (default 1000; the real
# side is the 378-image validation split). Every row uses seed 0. Prints a Markdown table and
# keeps each report.json under OUT (default runs/evidence). ROWS=REGEX runs only the rows whose
# name matches (e.g. ROWS=dpm).
set -euo pipefail
uncond="$1"; cond="$2"; n="${3:-1000}"; out="${4:-runs/evidence}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
sprites="${SPRITES:-$root/src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites}"
[ -x "$sprites" ] || dotnet build -c Release "$root" > /dev/null
mkdir -p "$out"

row() { # name, checkpoint, evaluate flags...
  local name="$1" ckpt="$2"; shift 2
  [[ "$name" =~ ${ROWS:-.} ]] || return 0
  "$sprites" evaluate --checkpoint "$ckpt" --n "$n" --seed 0 --out "$out/$name" "$@" > "$out/$name.log" 2>&1 \
    || { cat "$out/$name.log" >&2; exit 1; }
  python3 - "$out/$name/report.json" "$name" "$*" <<'PY' 2>/dev/null || jq -r --arg name "$name" --arg flags "$*" \
    '"| \($name) | \($flags) | \(.fid.value*1000|round/1000) | \(.kid.value*100000|round/100000) ± \(.kid.standard_deviation*100000|round/100000) | \(.seconds.generation*10|round/10) |"' "$out/$name/report.json"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {sys.argv[3]} | {r['fid']['value']:.3f} | {r['kid']['value']:.5f} ± {r['kid']['standard_deviation']:.5f} | {r['seconds']['generation']:.1f} |")
PY
}

echo "| model | sampling | FID (ResNet-18) | KID (ResNet-18) | generation s |"
echo "|---|---|---|---|---|"
row uncond-raw-ddim50   "$uncond/best.safetensors" --method ddim --steps 50 --weights raw
row uncond-ema-ddim50   "$uncond/best.safetensors" --method ddim --steps 50
row cond-ema-null-ddim50 "$cond/best.safetensors" --method ddim --steps 50
row cond-raw-w3-ddim50  "$cond/best.safetensors" --method ddim --steps 50 --guidance 3 --weights raw
row cond-ema-w1-ddim50  "$cond/best.safetensors" --method ddim --steps 50 --guidance 1
row cond-ema-w3-ddim50  "$cond/best.safetensors" --method ddim --steps 50 --guidance 3
row cond-ema-w3-dpm10   "$cond/best.safetensors" --method dpm++2m --steps 10 --guidance 3
row cond-ema-w3-dpm20   "$cond/best.safetensors" --method dpm++2m --steps 20 --guidance 3
