#!/usr/bin/env bash
# GPU check for keras-rs, for a machine with an NVIDIA GPU, the CUDA toolkit (nvcc) and NO network.
#
# 1. On a machine with network, from the repository root:
#        scripts/gpu-check.sh --vendor
#    vendors every crate into .vendor/ (git-ignored) and writes .vendor/config.toml, so the GPU
#    machine builds offline. Carry .vendor with the working tree.
# 2. On the GPU machine, from the repository root:
#        scripts/gpu-check.sh [OUT_DIR]
#    builds with `--features cuda`, runs the device-dependent test suites on `Cuda` (the tests'
#    TestDevice is Cuda under the feature), then the training benchmark (W1: 784-256-128-10 MLP at
#    batch 128; W3: 1024-1024-1024-10 at batch 256) on the GPU and on the CPU side by side, and
#    records peak GPU memory. Logs go to OUT_DIR (default: target/gpu-check).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--vendor" ]]; then
    mkdir -p .vendor
    cargo vendor --versioned-dirs .vendor/crates > /dev/null
    du -sh .vendor
    exit 0
fi

out="${1:-target/gpu-check}"
mkdir -p "$out"
cargo_args=()
if [[ -d .vendor/crates ]]; then
    # Absolute path, written here, so the config is right wherever the tree was copied to.
    printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "%s"\n' \
        "$PWD/.vendor/crates" > .vendor/config.toml
    cargo_args=(--config .vendor/config.toml --offline)
fi

log() { printf '\n=== %s\n' "$*" | tee -a "$out/summary.txt"; }

log "machine"
{ nvidia-smi || true; nvcc --version || true; } 2>&1 | tee "$out/machine.txt"

# Sample GPU memory use while the checks run; the maximum is the peak.
( while true; do
      nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -n1
      sleep 0.2
  done ) > "$out/gpu-mem-samples.txt" &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT

log "build (--features cuda)"
cargo "${cargo_args[@]}" build --release --features cuda --all-targets 2>&1 | tail -n 5 | tee -a "$out/summary.txt"

log "CUDA tests: device-dependent suites on Cuda"
set +e
cargo "${cargo_args[@]}" test --release --features cuda -p keras-core \
    --test golden_fit --test layers --test layer_gradients --test trainer_smoke --test trainer_errors \
    2>&1 | tee "$out/cuda-tests.txt" | grep -E "^test result|FAILED|panicked" | tee -a "$out/summary.txt"
tests_rc=${PIPESTATUS[0]}
set -e

log "benchmark: GPU and CPU side by side"
for w in W1 W3; do
    cargo "${cargo_args[@]}" run --release --features cuda --example bench -- "$w" --device cuda \
        2>&1 | tee -a "$out/bench.txt" | tail -n 8 | tee -a "$out/summary.txt"
    cargo "${cargo_args[@]}" run --release --features cuda --example bench -- "$w" --device cpu \
        2>&1 | tee -a "$out/bench.txt" | tail -n 8 | tee -a "$out/summary.txt"
done

kill $sampler 2>/dev/null || true
peak=$(sort -n "$out/gpu-mem-samples.txt" | tail -n1)
log "peak GPU memory: ${peak:-unknown} MiB"
exit "$tests_rc"
