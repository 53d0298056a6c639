#!/usr/bin/env bash
# Side-by-side throughput of keras-rs (`Trainer::fit`, the hand-written loop over the same kernels,
# pure dfdx; on W4 `fit` and `predict`) and Keras 3 + JAX on the benchmark workloads, in alternating rounds so that
# load from other processes hits both alike. Prints every round's samples/s and the median of
# the per-round ratios.
#
#     scripts/compare-keras.sh [ROUNDS] [W1 W2 W3 W4]
#
# Needs a Python with keras and jax: KVENV (default /tmp/kvenv) holds a venv made with
#     python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install keras "jax[cpu]"
# and the shared benchmark folder (BENCH_DIR, default ../shared/bench) with keras_peer.py.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
shift || true
workloads=("$@")
[[ ${#workloads[@]} -eq 0 ]] && workloads=(W1 W2 W3)
kvenv="${KVENV:-/tmp/kvenv}"
bench_dir="${BENCH_DIR:-../shared/bench}"
[[ -x "$kvenv/bin/python" ]] || { echo "no Python at $kvenv/bin/python (see the header)" >&2; exit 2; }
[[ -f "$bench_dir/keras_peer.py" ]] || { echo "no $bench_dir/keras_peer.py" >&2; exit 2; }

cargo build --release --example bench >&2
bench="$PWD/target/release/examples/bench"
log=$(mktemp)
for w in "${workloads[@]}"; do
    case "$w" in
        W1) name=mlp ;;
        W2) name=tiny ;;
        W3) name=wide ;;
        W4) name=convnet ;;
        *) echo "unknown workload $w" >&2; exit 2 ;;
    esac
    for r in $(seq "$rounds"); do
        "$bench" "$w" --epochs 3 | grep '^keras-rs-' | sed "s/^/$w,$r,/" >> "$log"
        if [[ "$w" == W4 ]]; then
            # keras_peer.py has no convnet: the project's peer script runs it (3 epochs, then 3
            # passes of predict; its CSV cut to keras_peer.py's columns).
            BENCH_DIR="$bench_dir" KERAS_BACKEND=jax "$kvenv/bin/python" \
                scripts/keras_memory_peer.py convnet 3 predict | grep '^keras-jax' \
                | cut -d, -f1-5,8 | sed "s/^/$w,$r,/" >> "$log"
        else
            (cd "$bench_dir" && KERAS_BACKEND=jax "$kvenv/bin/python" keras_peer.py "$name") \
                | grep '^keras-jax,' | sed "s/^/$w,$r,/" >> "$log"
        fi
    done
done
python3 - "$log" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(dict)  # (workload, round) -> loop -> samples/s
for line in open(sys.argv[1]):
    w, r, loop, _name, _batch, sps, rss, _loss = line.strip().split(",")
    rows[(w, int(r))][loop.replace("keras-rs-", "")] = (float(sps), float(rss))
for w in sorted({k[0] for k in rows}):
    rounds = [rows[k] for k in sorted(rows) if k[0] == w]
    print(f"{w}: samples/s per round (peak RSS MiB)")
    for i, r in enumerate(rounds, 1):
        print("  round %d: " % i + ", ".join(f"{k} {v[0]:,.0f} ({v[1]:.0f})" for k, v in r.items()))
    for num, den in [("fit", "keras-jax"), ("fit", "hand"), ("fit", "dfdx"), ("hand", "keras-jax"),
                     ("predict", "keras-jax-predict")]:
        ratios = [r[num][0] / r[den][0] for r in rounds if num in r and den in r]
        if ratios:
            print(f"  {num} / {den}: " + ", ".join(f"{x:.3f}" for x in ratios)
                  + f" -> median {statistics.median(ratios):.3f}")
EOF
rm -f "$log"
