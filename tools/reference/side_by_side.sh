#!/usr/bin/env bash
# Runs our engine and the references on the same workload alternately and prints the median img/s
# of each with the ratios. Usage:
#   tools/reference/side_by_side.sh train-step 64 128 [pairs=3] [steps=3]     # ours, torch, ours, torch, ...
#   tools/reference/side_by_side.sh sample-step 64 16 [rounds=3] [steps=3]    # ours, ort, torch, ours, ort, ...
# sample-step's ONNX Runtime side runs tools/reference/onnx/seed_unet_nf<N>.onnx (committed for
# n_feat 32 and 64; tools/reference/export_onnx_baseline.py makes others). Builds what it runs
# (dotnet build -c Release) and needs Debian's python3-torch. Every side gets the same threads
# (SIDE_BY_SIDE_THREADS, default 2).
# Each round also prints the round trip of a cache line between two cores (`sprites bench cores`):
# at batch 1 the split over two threads pays it every layer, so far-apart cores slow our side most.
# SIDE_BY_SIDE_AVX2=1 runs every side as an AVX2 machine would on an AVX-512 one: ours with
# DOTNET_EnableAVX512=0, ONNX Runtime from a copy whose AVX-512 kernel choice is patched out
# (ort_without_avx512.py), PyTorch with its CPU-capability, oneDNN and BLAS caps at AVX2. An
# emulation: the cores, caches and clocks stay the AVX-512 machine's.
# Run on a quiet machine: it measures how busy the CPUs are after building and refuses to start
# above a quarter of them (SIDE_BY_SIDE_FORCE=1 runs anyway), and prints the load average before
# and after so that a reader can judge the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=$1 nfeat=$2 batch=$3 rounds=${4:-3} steps=${5:-3}
threads=${SIDE_BY_SIDE_THREADS:-2}
avx2=${SIDE_BY_SIDE_AVX2:-0}
ours_env=() torch_env=()
if [[ $avx2 == 1 ]]; then
  ours_env=(DOTNET_EnableAVX512=0)
  torch_env=(ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENBLAS_CORETYPE=Haswell)
fi
[[ $mode == train-step || $mode == sample-step ]] || { echo "mode must be train-step or sample-step" >&2; exit 2; }
sprites="src/SpriteDiffusion.Cli/bin/Release/net10.0/sprites"
ortbench="bench/OrtBench/bin/Release/net10.0/OrtBench"
onnx="tools/reference/onnx/seed_unet_nf$nfeat.onnx"
if [[ $mode == sample-step && ! -f $onnx ]]; then
  echo "$onnx not found: /usr/bin/python3 tools/reference/export_onnx_baseline.py --n-feat $nfeat" >&2
  exit 1
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
build() {
  local log
  log=$(dotnet build -c Release -nologo "$1" 2>&1) || { printf '%s\n' "$log" >&2; echo "build of $1 failed" >&2; exit 1; }
}
build src/SpriteDiffusion.Cli/SpriteDiffusion.Cli.csproj
[[ $mode == sample-step ]] && build bench/OrtBench/OrtBench.csproj
if [[ $mode == sample-step && $avx2 == 1 ]]; then
  /usr/bin/python3 tools/reference/ort_without_avx512.py bench/OrtBench/bin/Release/net10.0 bench/OrtBench/bin/avx2 || exit 1
  ortbench="bench/OrtBench/bin/avx2/OrtBench"
  echo "AVX2 emulation: ours with DOTNET_EnableAVX512=0, ONNX Runtime patched to its AVX2 kernels, PyTorch capped at AVX2"
fi

# The load average still carries the build (and lags a minute), so judge by the CPU time that
# every process together used over the last two seconds.
busy_percent() {
  local a b
  read -ra a < <(grep '^cpu ' /proc/stat)
  sleep 2
  read -ra b < <(grep '^cpu ' /proc/stat)
  local total=0 idle i
  for ((i = 1; i < ${#a[@]}; i++)); do total=$((total + b[i] - a[i])); done
  idle=$((b[4] - a[4] + b[5] - a[5]))  # idle + iowait
  echo $((total > 0 ? 100 * (total - idle) / total : 0))
}
sleep 1  # the build's own processes wind down
busy=$(busy_percent)
if ((busy > 25)); then
  echo "CPUs ${busy}% busy over 2 s before starting; the busiest processes (CPU % over their lifetime):" >&2
  ps -eo pid,pcpu,etime,comm --sort=-pcpu | head -n 6 >&2
  if [[ ${SIDE_BY_SIDE_FORCE:-0} != 1 ]]; then
    echo "refusing to measure on a busy machine (SIDE_BY_SIDE_FORCE=1 runs anyway)" >&2
    exit 3
  fi
  echo "SIDE_BY_SIDE_FORCE=1: running anyway; these numbers are not measurements" >&2
  forced_busy=$busy
else
  echo "CPUs ${busy}% busy over 2 s before starting"
fi

ours=() ort=() torch=() ours_rss=() ort_rss=() torch_rss=()
last() { grep "^$1=" | tail -n 1 | cut -d= -f2 | cut -d' ' -f1; }
# On machines whose cores share no cache, or VMs whose cores the host moves, a batch of one split
# over two threads runs far slower when the cores are far apart: each round notes how far apart two
# threads that the OS placed just before it were (n/a on one core).
cores() { "$sprites" bench cores 2>/dev/null | grep '^round_trip_ns=' | cut -d= -f2; }
for ((i = 1; i <= rounds; i++)); do
  distance=$(cores) || distance=n/a
  out=$(env "${ours_env[@]}" "$sprites" bench "$mode" --n-feat "$nfeat" --batch "$batch" --steps "$steps" --threads "$threads")
  ours+=("$(last img/s <<<"$out")"); ours_rss+=("$(last peak_rss_mb <<<"$out")")
  if [[ $mode == sample-step ]]; then
    out=$("$ortbench" --model "$onnx" --batch "$batch" --steps "$steps" --threads "$threads")
    ort+=("$(last img/s <<<"$out")"); ort_rss+=("$(last peak_rss_mb <<<"$out")")
  fi
  out=$(env "${torch_env[@]}" /usr/bin/python3 tools/reference/torch_bench.py "$mode" --n-feat "$nfeat" --batch "$batch" --steps "$steps" --threads "$threads")
  torch+=("$(last img/s <<<"$out")"); torch_rss+=("$(last peak_rss_mb <<<"$out")")
  if [[ $mode == sample-step ]]; then
    echo "round $i: ours ${ours[-1]} img/s (${ours_rss[-1]} MB), ort ${ort[-1]} img/s (${ort_rss[-1]} MB), torch ${torch[-1]} img/s (${torch_rss[-1]} MB); core round trip $distance ns"
  else
    echo "pair $i: ours ${ours[-1]} img/s (${ours_rss[-1]} MB), torch ${torch[-1]} img/s (${torch_rss[-1]} MB); core round trip $distance ns"
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mo=$(median "${ours[@]}") mt=$(median "${torch[@]}")
if [[ $mode == sample-step ]]; then
  mr=$(median "${ort[@]}")
  echo "$mode n_feat=$nfeat batch=$batch: $rounds rounds of $steps timed steps, $threads threads each, medians$([[ $avx2 == 1 ]] && echo ', AVX2 emulation')"
  printf '%-6s %12s %10s %10s\n' side img/s peak_MB ours/side
  row() { printf '%-6s %12s %10s %10s\n' "$1" "$2" "$3" "$(awk -v a="$mo" -v b="$2" 'BEGIN {printf "%.2f", a / b}')"; }
  row ours "$mo" "$(median "${ours_rss[@]}")"
  row ort "$mr" "$(median "${ort_rss[@]}")"
  row torch "$mt" "$(median "${torch_rss[@]}")"
  echo "(ours and ort time the forward pass on fixed inputs; torch also times its DDPM update, small beside the forward)"
else
  [[ $avx2 == 1 ]] && echo "AVX2 emulation (SIDE_BY_SIDE_AVX2=1):"
  echo "$mode n_feat=$nfeat batch=$batch: ours median $mo img/s (peak $(median "${ours_rss[@]}") MB), torch median $mt img/s (peak $(median "${torch_rss[@]}") MB), ratio $(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f", a / b}')x"
fi
# Repeated at the end, where a reader copying the table will see it.
[[ -n ${forced_busy:-} ]] && echo "NOT A MEASUREMENT: started with the CPUs ${forced_busy}% busy (SIDE_BY_SIDE_FORCE=1)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
