#!/usr/bin/env bash
# Issue 11, section 4: trains the bundled model (models/twemoji16) in legs that may span several
# sittings, and keeps the record the model card needs (every leg's epochs, wall time, commit, machine).
#
#   tools/experiments/bundled_model.sh start EPOCHS FLAGS...  # first leg: sprites train FLAGS --epochs EPOCHS
#   tools/experiments/bundled_model.sh leg [EPOCHS]           # next leg: resume (EPOCHS raises the planned total)
#   tools/experiments/bundled_model.sh carry                  # before a sitting ends: copy the state to commit
#   tools/experiments/bundled_model.sh restore                # on a fresh clone: put the carried state back
#   tools/experiments/bundled_model.sh legs                   # the legs as a Markdown table
#
# The run lives in runs/bundled (not committed). A sitting may end mid-leg: the trainer writes its
# resume checkpoint after every epoch, and `carry` copies it (with the best checkpoint, the config,
# the losses and the log) to tools/experiments/bundled-carry/, which is committed until the model is
# done and then removed. Legs are counted from losses.csv (seconds per epoch) and legs.tsv (one line
# per start of `sprites train`), so a leg cut off by the end of a sitting is still counted.
# Runs under `nice` so that other work can share the machine, but the issue asks for hours of
# training on the two cores: keep the machine otherwise quiet while a leg runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
sprites="${SPRITES:-src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites}"
run="runs/bundled"
carried="tools/experiments/bundled-carry"
[ -x "$sprites" ] || dotnet build -c Release > /dev/null

record_leg() {  # leg number, epoch it starts from, planned epochs, when, commit, machine
  local done_epochs=0
  [ -f "$run/losses.csv" ] && done_epochs=$(($(wc -l < "$run/losses.csv") - 1))
  local n=1
  [ -f "$run/legs.tsv" ] && n=$(wc -l < "$run/legs.tsv")
  [ -f "$run/legs.tsv" ] || printf 'leg\tfrom_epoch\tplanned_epochs\tstarted_utc\tcommit\tmachine\n' > "$run/legs.tsv"
  local machine; machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$((done_epochs + 1))" "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(git rev-parse --short HEAD)" "$machine" >> "$run/legs.tsv"
}

case "${1:-}" in
  start)
    shift; epochs="$1"; shift
    [ -e "$run" ] && { echo "error: $run exists; continue it with 'leg', or move it away to start over" >&2; exit 1; }
    mkdir -p "$run"
    record_leg "$epochs"
    nice -n 5 "$sprites" train "$@" --epochs "$epochs" --seed 0 --out "$run" --force ;;
  leg)
    [ -f "$run/resume.safetensors" ] || { echo "error: no $run/resume.safetensors; 'restore' a carried run or 'start' one" >&2; exit 1; }
    planned=$(sed -n 's/.*"epochs": *\([0-9]*\).*/\1/p' "$run/config.json" | head -1)
    epochs="${2:-$planned}"
    record_leg "$epochs"
    nice -n 5 "$sprites" train --resume "$run" --epochs "$epochs" ;;
  carry)
    mkdir -p "$carried"
    cp "$run/resume.safetensors" "$run/best.safetensors" "$run/config.json" "$run/losses.csv" "$run/train.log" "$run/legs.tsv" "$carried/"
    sed -i "s#$root/##g" "$carried/train.log"
    echo "carried $(($(wc -l < "$run/losses.csv") - 1)) epochs to $carried: commit it" ;;
  restore)
    [ -d "$carried" ] || { echo "error: nothing carried in $carried" >&2; exit 1; }
    mkdir -p "$run"
    cp "$carried"/* "$run/" ;;
  legs)
    # Wall time per leg: the seconds of the epochs it trained (a cut-off leg ends at its last whole epoch).
    awk -F'\t' 'NR == FNR { if (FNR > 1) { from[FNR - 1] = $2; line[FNR - 1] = $0; n = FNR - 1 } next }
      FNR > 1 { secs[$1] = $4; last = $1 }
      END {
        print "| leg | epochs | wall time | started (UTC) | commit | machine |"; print "|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
          to = (i < n ? from[i + 1] - 1 : last); s = 0
          for (e = from[i]; e <= to; e++) s += secs[e]
          split(line[i], f, "\t")
          printf "| %d | %d-%d | %.1f min | %s | %s | %s |\n", i, from[i], to, s / 60, f[4], f[5], f[6]
        }
      }' "$run/legs.tsv" FS=, "$run/losses.csv" ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
