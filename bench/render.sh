#!/usr/bin/env bash
# Whole-process timing of `amlgen render` on N generated specs, side by side in one run with
#   - the floor: `cp -r` of the output amlgen produced (creating the same files, nothing else),
#   - `amlgen verify` of the N templates rendered (it reads them and writes nothing),
#   - `amlgen render` of the same N specs written as extensions of one base,
#   - the peer: ../shared/bench/baseline_jinja.py (PyYAML + jsonschema + Jinja2), when present,
# and of rendering and verifying the largest example alone. Every timed run writes a fresh folder; nothing is
# deleted before or between runs, only when the script exits. Peak memory (max RSS) comes from
# /usr/bin/time when it is installed. Measures, asserts nothing.
#
# On this machine's ext4, for a few minutes after many files were deleted nearby, creating a
# file is 5-15 times slower for every tool (the kernel passes over the recently freed inodes),
# which leaves every ratio near 1. So the script first waits out its own previous cleanup
# (BENCH_SETTLE=no skips that), and prints how long creating 2,000 empty files took, which tells
# the two states apart (here: about 15-20 ms settled, 100-300 ms not; see the README).
#   usage: bench/render.sh [repetitions, default 5] [N specs ..., default 1000]
#          (bench/render.sh 3 1000 10000 gives both sizes in one run)
#   env:   AMLGEN_SHARED (default ../shared), BENCH_DIR (default target/bench), BENCH_SETTLE
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-5}"; shift || true
sizes=("${@:-1000}")
bench_dir="${BENCH_DIR:-target/bench}"
mkdir -p "$bench_dir"
settle=370
cleaned="$bench_dir/.cleaned"
if [ "${BENCH_SETTLE:-yes}" != no ] && [ -f "$cleaned" ]; then
  left=$(( $(cat "$cleaned") + settle - $(date +%s) ))
  if [ "$left" -gt 0 ]; then
    echo "waiting ${left} s: the last run of this script deleted its files here (BENCH_SETTLE=no skips this)"
    sleep "$left"
  fi
fi
work="$(mktemp -d "$bench_dir/run-XXXXXX")"
trap 'rm -rf "$work"; date +%s > "$cleaned"' EXIT

# Writes N specs into $work/specs-N, and the same N specs as extensions of one base into
# $work/extends-N (the base holds the region, the requirements, the workspace's private
# endpoint, the lockdown and the egress; each spec the rest).
generate() {
  local n="$1" i a b
  mkdir -p "$work/specs-$n" "$work/extends-$n"
  cat > "$work/extends-$n/standard.base.yaml" <<BASE
location: eastus2
requirements: current
workspace:
  private_endpoint: true
network:
  outbound: locked
  egress: nat
BASE
  for i in $(seq 1 "$n"); do
  a=$(( i / 250 % 250 )); b=$(( i % 250 ))
  cat > "$work/specs-$n/spec-$i.yaml" <<SPEC
name: bench-$i
location: eastus2
requirements: current
tags:
  costCenter: "$i"
workspace:
  name: mlw-bench-$i
  private_endpoint: true
network:
  vnet:
    name: vnet-bench-$i
    address_space: [10.$a.$b.0/24]
  subnets:
    - name: snet-a
      address_prefix: 10.$a.$b.0/25
    - name: snet-b
      address_prefix: 10.$a.$b.128/25
  outbound: locked
  egress: nat
compute:
  - name: cpu-a
    type: amlcompute
    size: Standard_D4s_v3
    subnet: snet-a
    max_instances: 8
  - name: cpu-b
    type: amlcompute
    size: Standard_D4s_v3
    subnet: snet-b
    max_instances: 16
SPEC
  sed -e '/^location:/d; /^requirements:/d; /^  private_endpoint:/d; /^  outbound:/d; /^  egress:/d' \
    -e '1i extends: standard.base.yaml' "$work/specs-$n/spec-$i.yaml" > "$work/extends-$n/spec-$i.yaml"
  done
}
cargo build --release --quiet
amlgen="$PWD/target/release/amlgen"
largest="$(ls -S examples/*.yaml | head -1)"
baseline="${AMLGEN_SHARED:-../shared}/bench/baseline_jinja.py"
peer=no
if [ -f "$baseline" ] && python3 -c 'import yaml, jsonschema, jinja2' 2>/dev/null; then peer=yes; fi

# Runs "$@" with {} replaced by a folder that does not exist yet; prints "milliseconds
# max-RSS-KiB", or "milliseconds -" with `bare` first (no /usr/bin/time around the command).
# The clock is bash's own $EPOCHREALTIME, so no `date` process is timed with the command.
# (It runs in a subshell, so the name comes from mktemp, not a counter.)
timed() {
  local dest args=() start end rss=- wrap=()
  if [ "$1" = bare ]; then shift; elif [ -x /usr/bin/time ]; then wrap=(/usr/bin/time -f '%M' -o "$work/rss"); fi
  dest="$(mktemp -u "$work/fresh-XXXXXXXX")"
  for arg in "$@"; do args+=("${arg//\{\}/$dest}"); done
  start=${EPOCHREALTIME/[.,]/}
  "${wrap[@]}" "${args[@]}" > /dev/null 2>&1
  end=${EPOCHREALTIME/[.,]/}
  [ ${#wrap[@]} -gt 0 ] && rss=$(tail -1 "$work/rss")
  local us=$(( end - start ))
  echo "$(( us / 1000 )).$(( us % 1000 / 100 )) $rss"
}

# Milliseconds to create 2,000 empty files in a fresh folder: the state of the filesystem.
probe() {
  local dir start end i
  dir="$(mktemp -d "$work/probe-XXXXXX")"
  start=${EPOCHREALTIME/[.,]/}
  for i in $(seq 1 2000); do : > "$dir/$i"; done
  end=${EPOCHREALTIME/[.,]/}
  echo $(( (end - start) / 1000 ))
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
labels=("amlgen render" "cp -r (floor)" "amlgen verify" "render (extends)")
[ "$peer" = yes ] && labels+=("baseline_jinja.py")
echo "filesystem: 2,000 empty files created in $(probe) ms"
echo "median of $reps runs each, $(nproc) cores:"
for n in "${sizes[@]}"; do
  generate "$n"
  specs="$work/specs-$n"
  "$amlgen" render "$specs" -o "$work/reference-$n" > /dev/null 2>&1
  declare -A times=() rss=()
  for _ in $(seq 1 "$reps"); do
    for label in "${labels[@]}"; do
      case "$label" in
        "amlgen render") result=$(timed "$amlgen" render "$specs" -o {}) ;;
        "cp -r (floor)") result=$(timed cp -r "$work/reference-$n" {}) ;;
        "amlgen verify") result=$(timed "$amlgen" verify --quiet "$work/reference-$n") ;;
        "render (extends)") result=$(timed "$amlgen" render "$work/extends-$n" -o {}) ;;
        *) result=$(timed python3 "$baseline" {} "$specs") ;;
      esac
      times[$label]+="${result% *} "; rss[$label]="${result#* }"
    done
  done
  floor=$(echo "${times["cp -r (floor)"]}" | median)
  for label in "${labels[@]}"; do
    ms=$(echo "${times[$label]}" | median)
    ratio=$(awk -v a="$ms" -v b="$floor" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
    printf '  %6d specs  %-18s %8s ms  %5sx floor  peak %s KiB\n' "$n" "$label" "$ms" "$ratio" "${rss[$label]}"
  done
done
if [ "$peer" = no ]; then
  echo "  (peer skipped: needs $baseline and 'pip install pyyaml jsonschema jinja2')"
fi
single=""
for _ in $(seq 1 20); do single+="$(timed bare "$amlgen" render "$largest" -o {} | cut -d' ' -f1) "; done
echo "largest example ($largest), whole process: median $(echo "$single" | median) ms of 20"
checked=""
for _ in $(seq 1 20); do checked+="$(timed bare "$amlgen" verify --quiet "$largest" | cut -d' ' -f1) "; done
echo "verify of the largest example (compiled, rendered in memory, verified), whole process: median $(echo "$checked" | median) ms of 20"
