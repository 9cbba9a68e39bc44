#!/usr/bin/env bash
# Issue 11's study: training recipes at equal CPU time on the two cores, each evaluated with one
# `sprites evaluate` command line (3000 sprites, DPM-Solver++ 2M at 20 steps, clipping, against
# every real image; guidance 3 where the model is conditional, unguided for the seed's
# unconditional preset). Prints the README's table.
#
#   tools/experiments/recipe_study.sh calibrate          # time each candidate's epoch on a quiet machine
#   tools/experiments/recipe_study.sh run [NAME...]      # train (or resume) and evaluate; all by default
#   tools/experiments/recipe_study.sh table              # the Markdown table from what is done
#
# Equal time: `calibrate` trains every candidate for 2 epochs alone on the machine and records its
# second epoch's seconds in results/calibration.tsv; `run` then trains each for
# floor(BUDGET_MINUTES * 60 / seconds) epochs, so every candidate gets the same wall-clock budget
# as measured on a quiet machine, however busy the machine is while the study runs (it runs under
# `nice`, beside other work). Candidates of one architecture (n_feat and batch) cost the same per
# epoch, so they share the median of their measurements (the file keeps each measurement beside
# it). Calibrate once per machine kind; the file is committed so a study spread over several
# sittings keeps its plan.
#
# Runs go to runs/study/NAME (not committed); what the README needs (config.json, losses.csv,
# train.log, report.json) is copied to tools/experiments/results/NAME, which is committed. A run
# cut off part-way resumes from runs/study/NAME/resume.safetensors when that folder is still there.
# BUDGET_MINUTES (default 20) and EVAL_N (default 3000) override the plan; SECOND_SEED=1 adds the
# "-s1" candidates (the same recipes with --seed 1).
set -euo pipefail
root="${STUDY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"  # STUDY_ROOT: run a copy of this script (bash reads a script as it runs, so editing it would break a running study)
sprites="${SPRITES:-$root/src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites}"
results="$root/tools/experiments/results"
runs="runs/study"   # relative, so that the configs and reports it keeps name no machine's folders
budget="${BUDGET_MINUTES:-20}"
eval_n="${EVAL_N:-3000}"
cd "$root"
mkdir -p "$results" "$runs"
[ -x "$sprites" ] || dotnet build -c Release "$root" > /dev/null

# The new recipe: v target, min-SNR-5, cosine noise schedule, warm-up then cosine decay to a floor over the planned run,
# the weight average by half-life, and no mirrored flags or symbols.
new="--prediction v --loss min-snr --schedule cosine --lr-schedule cosine --warmup-steps 200 --lr-floor 1e-5 --ema-halflife 20000 --no-flip-classes Flags,Symbols"
# The default of `sprites train` when the study began, spelled out (the cpu preset has changed since).
old_default="--batch 64 --schedule linear --prediction eps --loss mse --lr-schedule constant --warmup-steps 0 --lr-floor 0"
declare -A flags=(
  [seed]="--preset seed"
  [default]="$old_default"
  [v-minsnr]="--batch 64 --schedule linear --lr-schedule constant --warmup-steps 0 --lr-floor 0 --prediction v --loss min-snr"
  [new-nf32-b64]="$new --batch 64"
  [new-nf32-b32]="$new --batch 32"
  [new-nf48-b64]="$new --n-feat 48 --batch 64"
  [new-nf64-b128]="$new --n-feat 64 --batch 128"
  # Added after the first seven: v-minsnr (102.0) and new-nf48-b64 (111.6) led, so their two changes together.
  [v-minsnr-nf48]="--n-feat 48 --batch 64 --schedule linear --lr-schedule constant --warmup-steps 0 --lr-floor 0 --prediction v --loss min-snr"
)
order=(default new-nf32-b64 new-nf64-b128 new-nf48-b64 v-minsnr seed new-nf32-b32 v-minsnr-nf48)
# Second seeds of the two best first-seed candidates (chosen after their FIDs were in).
seconds_seed=(${SECOND:-v-minsnr-nf48 v-minsnr})

flags_of() { local base="${1%-s1}"; local f="${flags[$base]}"; [[ "$1" == *-s1 ]] && f="$f --seed 1"; echo "$f"; }

calibrate() {
  printf 'name\tseconds_per_epoch\n' > "$results/calibration.tsv.tmp"
  for name in "${order[@]}"; do
    rm -rf "$runs/calibrate-$name"
    # shellcheck disable=SC2046
    "$sprites" train $(flags_of "$name") --epochs 2 --samples 0 --out "$runs/calibrate-$name" > /dev/null
    secs=$(awk -F, 'NR==3 {print $4}' "$runs/calibrate-$name/losses.csv")
    printf '%s\t%s\n' "$name" "$secs" | tee -a "$results/calibration.tsv.tmp"
  done
  mv "$results/calibration.tsv.tmp" "$results/calibration.tsv"
}

epochs_of() {
  local secs; secs=$(awk -F'\t' -v n="${1%-s1}" '$1 == n {print $2}' "$results/calibration.tsv")
  [ -n "$secs" ] || { echo "error: no calibration for ${1%-s1} in $results/calibration.tsv; run '$0 calibrate' first" >&2; exit 1; }
  awk -v b="$budget" -v s="$secs" 'BEGIN {print int(b * 60 / s)}'
}

train_one() {
  local name="$1" dir="$runs/$1" epochs; epochs=$(epochs_of "$name")
  if [ -f "$dir/last.safetensors" ] && [ "$(awk -F, 'END {print $1}' "$dir/losses.csv")" = "$epochs" ]; then return 0; fi
  if [ -f "$dir/resume.safetensors" ]; then
    nice -n 10 "$sprites" train --resume "$dir" --samples 0 > "$dir.train.out" 2>&1
  else
    # shellcheck disable=SC2046
    nice -n 10 "$sprites" train $(flags_of "$name") --epochs "$epochs" --samples 0 --out "$dir" --force > "$dir.train.out" 2>&1
  fi
}

eval_one() {
  local name="$1" dir="$runs/$1" guidance=()
  grep -q '"conditional": true' "$dir/config.json" && guidance=(--guidance 3)
  nice -n 10 "$sprites" evaluate --checkpoint "$dir/last.safetensors" --n "$eval_n" --real all --method dpm++2m --steps 20 \
    --clip-denoised --seed 0 "${guidance[@]}" --out "$dir/eval" > "$dir.eval.out" 2>&1
  mkdir -p "$results/$name"
  cp "$dir/config.json" "$dir/losses.csv" "$dir/train.log" "$dir/eval/report.json" "$results/$name/"
  # The logs and the report name the repository's folder on this machine; the committed copies name paths from the root.
  sed -i -e "s#$root/##g" -e "s#$HOME/#~/#g" "$results/$name/"*
}

table() {
  echo "| recipe | flags | images seen | training time (quiet machine) | measured wall time | FID (ResNet-18) | KID (ResNet-18) | precision | recall | near-copies |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for name in "${order[@]}" "${seconds_seed[@]/%/-s1}"; do
    local r="$results/$name"
    [ -f "$r/report.json" ] || continue
    python3 - "$r" "$name" "$(flags_of "$name")" "$(awk -F'\t' -v n="${name%-s1}" '$1 == n {print $2}' "$results/calibration.tsv")" <<'PY'
import csv, json, sys, os
r, name, flags, secs = sys.argv[1:]
rep = json.load(open(os.path.join(r, "report.json")))
cfg = json.load(open(os.path.join(r, "config.json")))
rows = list(csv.DictReader(open(os.path.join(r, "losses.csv"))))
log = open(os.path.join(r, "train.log")).read()
import re
train_images = int(re.search(r"on (\d+) images", log).group(1))
seen = len(rows) * train_images
wall = sum(float(x["seconds"]) for x in rows)
def g(*path):
    v = rep
    for p in path:
        if not isinstance(v, dict) or p not in v: return None
        v = v[p]
    return v
fid = g("fid", "value"); kid = g("kid", "value"); prec = g("precision_recall", "precision"); rec = g("precision_recall", "recall")
near = g("memorisation", "generated", "rate"); base = g("memorisation", "validation_baseline", "rate")
fmt = lambda v, f: "-" if v is None else format(v, f)
# The budget is the calibrated seconds per epoch times the epochs: what the run costs alone on the
# two cores. The measured time is longer wherever the study shared the machine.
quiet = len(rows) * float(secs) if secs else float("nan")
print(f"| {name} | `{flags or '(defaults)'}` | {seen/1e3:.0f}k | {quiet/60:.1f} min | {wall/60:.1f} min | {fmt(fid, '.1f')} | {fmt(kid, '.4f')} | {fmt(prec, '.3f')} | {fmt(rec, '.3f')} | {fmt(near, '.1%')} (val {fmt(base, '.1%')}) |")
PY
  done
}

case "${1:-}" in
  calibrate) calibrate ;;
  run)
    shift
    names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${order[@]}")
    for name in "${names[@]}"; do
      [ -f "$results/$name/report.json" ] && { echo "$name: done"; continue; }
      echo "$name: training $(epochs_of "$name") epochs ($(date -u +%H:%M))"; train_one "$name"
      echo "$name: evaluating ($(date -u +%H:%M))"; eval_one "$name"
      echo "$name: done ($(date -u +%H:%M))"
    done ;;
  table) table ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
