#!/usr/bin/env bash
# Peak and per-epoch resident memory of `fit` over many epochs (default 20) on W1, W3 and W4,
# against Keras 3 + JAX on the same data, alternating the two in one sitting.
#
#     scripts/memory-bench.sh [EPOCHS] [W1 W3 W4]
#
# Needs the venv of scripts/compare-keras.sh (KVENV, default /tmp/kvenv, with keras and jax) and
# the shared benchmark folder (BENCH_DIR, default ../shared/bench) for its data generator.
# BENCH (default: a release build of the bench example) is the keras-rs binary to run; give
# another build's binary to compare two versions.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-20}"
shift || true
workloads=("$@")
[[ ${#workloads[@]} -eq 0 ]] && workloads=(W1 W3 W4)
kvenv="${KVENV:-/tmp/kvenv}"
export BENCH_DIR="$(cd "${BENCH_DIR:-../shared/bench}" && pwd)"
if [[ -z "${BENCH:-}" ]]; then
    cargo build --release --example bench >&2
    BENCH="$PWD/target/release/examples/bench"
fi
for w in "${workloads[@]}"; do
    case "$w" in
        W1) name=mlp ;;
        W3) name=wide ;;
        W4) name=convnet ;;
        *) echo "unknown workload $w" >&2; exit 2 ;;
    esac
    echo "== $w keras-rs fit, $epochs epochs"
    "$BENCH" "$w" --epochs "$epochs" --only fit | grep -E '^  (loop|fit)'
    echo "== $w keras-jax, $epochs epochs (samples/s, peak MiB, MiB after epoch 2, after the last)"
    KERAS_BACKEND=jax "$kvenv/bin/python" scripts/keras_memory_peer.py "$name" "$epochs"
done
