#!/usr/bin/env bash
# Runs our engine and PyTorch on the same workload alternately (ours, torch, ours, torch, ...)
# and prints the median img/s of each and their ratio. Usage:
#   tools/reference/side_by_side.sh train-step 64 128 [pairs=3] [steps=3]
#   tools/reference/side_by_side.sh sample-step 64 16 [pairs=3] [steps=10]
# Needs a Release build (dotnet build -c Release) and Debian's python3-torch. Run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=$1 nfeat=$2 batch=$3 pairs=${4:-3} steps=${5:-3}
sprites="src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites"
[[ -x $sprites ]] || { echo "build first: dotnet build -c Release" >&2; exit 1; }
ours=() torch=() ours_rss=() torch_rss=()
last() { grep "^$1=" | tail -n 1 | cut -d= -f2 | cut -d' ' -f1; }
for ((i = 1; i <= pairs; i++)); do
  out=$("$sprites" bench "$mode" --n-feat "$nfeat" --batch "$batch" --steps "$steps" --threads 2)
  ours+=("$(last img/s <<<"$out")"); ours_rss+=("$(last peak_rss_mb <<<"$out")")
  out=$(/usr/bin/python3 tools/reference/torch_bench.py "$mode" --n-feat "$nfeat" --batch "$batch" --steps "$steps" --threads 2)
  torch+=("$(last img/s <<<"$out")"); torch_rss+=("$(last peak_rss_mb <<<"$out")")
  echo "pair $i: ours ${ours[-1]} img/s (${ours_rss[-1]} MB), torch ${torch[-1]} img/s (${torch_rss[-1]} MB)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mo=$(median "${ours[@]}") mt=$(median "${torch[@]}")
echo "$mode n_feat=$nfeat batch=$batch: ours median $mo img/s (peak $(median "${ours_rss[@]}") MB), torch median $mt img/s (peak $(median "${torch_rss[@]}") MB), ratio $(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f", a / b}')x"
