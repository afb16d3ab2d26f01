#!/usr/bin/env bash
# Whole-process timing of `amlgen render` on N generated specs, beside the performance peer
# (../shared/bench/baseline_jinja.py: PyYAML + jsonschema + Jinja2) on the same specs when it is
# available. Measures, asserts nothing.
#   usage: bench/render.sh [N specs, default 200] [repetitions, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"; reps="${2:-5}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/specs"
for i in $(seq 1 "$n"); do
  cat > "$work/specs/spec-$i.yaml" <<SPEC
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
    address_space: [10.$((i % 250)).0.0/16]
  subnets:
    - name: snet-a
      address_prefix: 10.$((i % 250)).0.0/24
    - name: snet-b
      address_prefix: 10.$((i % 250)).1.0/24
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
done
cargo build --release --quiet
time_it() { # label command...
  local best=""
  for _ in $(seq 1 "$reps"); do
    rm -rf "$work/out"
    local start end
    start=$(date +%s%N); "${@:2}" > /dev/null 2>&1; end=$(date +%s%N)
    local ms=$(( (end - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  printf '%-22s %6d ms best of %d for %d specs (%d us/spec)\n' "$1" "$best" "$reps" "$n" $(( best * 1000 / n ))
}
time_it "amlgen validate" target/release/amlgen validate "$work/specs"
time_it "amlgen render" target/release/amlgen render "$work/specs" -o "$work/out"
baseline="${AMLGEN_SHARED:-../shared}/bench/baseline_jinja.py"
if [ -f "$baseline" ] && python3 -c 'import yaml, jsonschema, jinja2' 2>/dev/null; then
  time_it "baseline_jinja.py" python3 "$baseline" "$work/out" "$work/specs"
else
  echo "baseline skipped: needs $baseline and 'pip install pyyaml jsonschema jinja2'"
fi
