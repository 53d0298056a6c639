#!/usr/bin/env bash
# CUDA checks: the device-dependent test suites and the bench on a GPU, with binaries built
# where the CUDA toolkit is (this workplace's lent GPU machines have no Rust toolchain, and one is
# too large to send along; on a machine with both, run the two steps one after the other).
#
# 1. On the build machine (needs no GPU), from the repository root:
#        scripts/gpu-check.sh --build [DIR]
#    builds the device-dependent test suites and the bench example with `--features cuda` and
#    copies them to DIR (default .gpubin/, git-ignored through .git/info/exclude), and packs them
#    into DIR.tar.xz (carry that one: the binaries outgrow a 64 MiB carry). It needs a CUDA
#    toolkit: `nvcc` (dfdx compiles its kernels to PTX with it) and `include/cuda.h` plus link-time
#    libraries under $CUDA_ROOT; where there is none, it makes one from NVIDIA's PyPI wheels with
#    scripts/cuda-toolkit-from-wheels.sh (CUDA 13.0, under ~/.cache/cuda13). The toolkit's version must not be newer than the GPU machine's
#    driver (PTX from CUDA 13.0 for a 580 driver). Where no GPU is present, set
#    CUDA_COMPUTE_CAP (90 for H100/H200): a fake `nvidia-smi` answering it is put on the PATH.
# 2. On the GPU machine, from the repository root (with DIR carried along):
#        scripts/gpu-check.sh [DIR] [OUT_DIR]
#    finds the CUDA libraries, runs each test suite on `Cuda` (the tests' TestDevice is Cuda under
#    the feature), the NCCL smoke test on one process (when it was built: it needs MPICH and
#    libclang on the build machine, and finds NCCL on the GPU machine, e.g. PyTorch's), then
#    `bench W1`, `bench W3` and `bench W4` (the convnet) with `--device cuda` (fit on the GPU
#    and fit on the CPU side by side, dfdx's loop on the GPU for W1 and W3, and `--profile`:
#    fit's steps phase by phase, host time and CUDA-event time), sampling GPU memory, and
#    profiles a short W3 fit with `nsys` when it is installed (kernel launches and host
#    synchronisations). Logs go to OUT_DIR (default target/gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."

suites=(golden_fit golden_optimizers golden_losses golden_metrics golden_schedules golden_normalization golden_layers golden_activations golden_callbacks embedding_inputs global_average_pooling1d resident_metrics resident_iou device_uploads step_profile device_loss_fit state_round_trips mapped_data moving_statistics layers layer_gradients trainer_smoke trainer_errors bad_input_corpus)

if [[ "${1:-}" == "--build" ]]; then
    set -e
    dir="${2:-.gpubin}"
    # No CUDA toolkit here: make one from NVIDIA's PyPI wheels (nvcc, headers, runtime, NVRTC,
    # cuBLAS, a libcuda link stub), once, under ~/.cache (STUB_LIBS=1 skips the cuBLAS wheel).
    if ! command -v nvcc > /dev/null && [[ ! -x "${CUDA_ROOT:-/nonexistent}/bin/nvcc" ]]; then
        export CUDA_ROOT="${CUDA_ROOT:-$HOME/.cache/cuda13}"
        [[ -x "$CUDA_ROOT/bin/nvcc" ]] || scripts/cuda-toolkit-from-wheels.sh "$CUDA_ROOT"
    fi
    # A toolkit made from the wheels before it had the NCCL link stub: make it again.
    if [[ -n "${CUDA_ROOT:-}" && -d "$CUDA_ROOT/lib64/stubs" && -e "$CUDA_ROOT/lib64/stubs/libcuda.so" &&
          ! -e "$CUDA_ROOT/lib64/stubs/libnccl.so" && -L "$CUDA_ROOT/bin" ]]; then
        # (with stubs for cuBLAS and NVRTC again if it had them)
        [[ -L "$CUDA_ROOT/lib64/libcublas.so.13" ]] || export STUB_LIBS=1
        scripts/cuda-toolkit-from-wheels.sh "$CUDA_ROOT"
    fi
    if [[ -n "${CUDA_ROOT:-}" && -x "$CUDA_ROOT/bin/nvcc" ]]; then
        export PATH="$CUDA_ROOT/bin:$PATH"
        export LIBRARY_PATH="$CUDA_ROOT/lib64:$CUDA_ROOT/lib64/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}"
    fi
    fake=$(mktemp -d)
    trap 'rm -rf "$fake"' EXIT
    printf '#!/bin/sh\necho compute_cap\necho %s\n' \
        "$(echo "${CUDA_COMPUTE_CAP:-90}" | sed 's/\(.\)$/.\1/')" > "$fake/nvidia-smi"
    chmod +x "$fake/nvidia-smi"
    command -v nvidia-smi > /dev/null || export PATH="$fake:$PATH"
    args=()
    for s in "${suites[@]}"; do args+=(--test "$s"); done
    cargo test --release --features cuda -p keras-core "${args[@]}" --no-run \
        --message-format=json > "$fake/build.json"
    cargo build --release --features cuda --example bench
    mkdir -p "$dir"
    for s in "${suites[@]}"; do
        exe=$(grep -o "\"executable\":\"[^\"]*/deps/$s-[0-9a-f]*\"" "$fake/build.json" | tail -n1 |
            cut -d'"' -f4)
        cp "$exe" "$dir/$s"
    done
    cp "${CARGO_TARGET_DIR:-target}/release/examples/bench" "$dir/bench"
    # The NCCL smoke test (feature `nccl`: CUDA + MPI), where MPICH and libclang are installed
    # (as `.ci/run` installs them), with the MPICH libraries it loads: the GPU machine has no MPI.
    if command -v mpiexec > /dev/null && ldconfig -p | grep -q libclang; then
        cargo test --release --features cuda,nccl -p keras-core --test nccl --no-run \
            --message-format=json > "$fake/nccl.json"
        exe=$(grep -o '"executable":"[^"]*/deps/nccl-[0-9a-f]*"' "$fake/nccl.json" | tail -n1 |
            cut -d'"' -f4)
        cp "$exe" "$dir/nccl"
        mkdir -p "$dir/lib"
        ldd "$dir/nccl" | awk '/=> \// {print $3}' |
            grep -E 'lib(mpi|mpich|hwloc|uc[pstm]|numa|fabric|psm)' | xargs -r -I{} cp -L {} "$dir/lib/"
    else
        echo "no MPICH or libclang here: the NCCL smoke test is not built" >&2
    fi
    strip "$dir"/* 2> /dev/null || true
    du -sh "$dir"
    # The binaries together outgrow what a run may carry (64 MiB): carry this archive instead;
    # the run unpacks it when DIR itself is missing.
    tar -C "$dir" -cJf "$dir.tar.xz" .
    du -sh "$dir.tar.xz"
    exit 0
fi

dir="${1:-.gpubin}"
out="${2:-target/gpu-check}"
if [[ ! -d "$dir" && -f "$dir.tar.xz" ]]; then
    mkdir -p "$dir" && tar -C "$dir" -xJf "$dir.tar.xz"
fi
mkdir -p "$out"
log() { printf '\n=== %s\n' "$*" | tee -a "$out/summary.txt"; }

# The tests read their fixtures from the path the build machine compiled them at.
manifest=$(strings "$dir/golden_fit" | grep -o '/[^ ]*/keras-core' | head -n1 || true)
if [[ -n "$manifest" && ! -e "$manifest" ]]; then
    mkdir -p "$(dirname "$(dirname "$manifest")")"
    ln -s "$PWD" "$(dirname "$manifest")"
fi

log "machine"
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv 2>&1 |
    tee -a "$out/summary.txt"
libdirs=()
for lib in libcuda.so.1 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13; do
    path=$(ldconfig -p | grep -m1 " $lib " | awk '{print $NF}')
    [[ -z "$path" ]] && path=$(find /usr /opt /lib /lib64 -name "$lib" 2>/dev/null | head -n1)
    echo "$lib: ${path:-not found}" | tee -a "$out/summary.txt"
    [[ -n "$path" ]] && libdirs+=("$(dirname "$path")")
done
LD_LIBRARY_PATH="$(IFS=:; echo "${libdirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

( while true; do
      nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -n1
      sleep 0.2
  done ) > "$out/gpu-mem-samples.txt" &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT

rc=0
log "CUDA tests: device-dependent suites on Cuda"
for s in "${suites[@]}"; do
    timeout 300 "$dir/$s" > "$out/test-$s.txt" 2>&1
    code=$?
    [[ $code -ne 0 ]] && rc=$code
    echo "$s (exit $code): $(grep -E '^test result' "$out/test-$s.txt" | tail -n1)" |
        tee -a "$out/summary.txt"
    grep -E "FAILED|panicked" "$out/test-$s.txt" | head -n 20 | tee -a "$out/summary.txt"
done

# NCCL on one process (MPI's singleton start, no mpiexec): the communicator, and a sum on the
# device as a data-parallel fit takes it. Its libraries: the carried MPICH ones, and NCCL from
# the system or from a Python package (PyTorch's nvidia/nccl/lib).
if [[ -x "$dir/nccl" ]]; then
    log "NCCL smoke test (one process)"
    nccl_lib=$(ldconfig -p | awk '/libnccl\.so\.2 / {print $NF; exit}')
    if [[ -z "$nccl_lib" ]]; then
        roots=(/usr /opt /root /home)
        read -r -a site < <(python3 -c 'import site; print(" ".join(site.getsitepackages()))' \
            2> /dev/null || true)
        nccl_lib=$(find "${roots[@]}" "${site[@]}" -name libnccl.so.2 2> /dev/null | head -n1)
    fi
    nccl_dir=$(dirname "${nccl_lib:-/nonexistent/libnccl.so.2}")
    echo "libnccl.so.2: ${nccl_lib:-not found}" | tee -a "$out/summary.txt"
    LD_LIBRARY_PATH="$dir/lib:$nccl_dir:$LD_LIBRARY_PATH" timeout 120 "$dir/nccl" \
        > "$out/test-nccl.txt" 2>&1
    code=$?
    [[ $code -ne 0 ]] && rc=$code
    echo "nccl (exit $code): $(tail -n 3 "$out/test-nccl.txt" | tr '\n' ' ')" | tee -a "$out/summary.txt"
fi

log "benchmark: fit on the GPU and on the CPU side by side"
for w in W1 W3 W4; do
    timeout 240 "$dir/bench" "$w" --device cuda --epochs "${BENCH_EPOCHS:-3}" \
        --repeat "${BENCH_REPEAT:-3}" --profile 2>&1 | tee -a "$out/bench.txt" | tail -n 26 |
        tee -a "$out/summary.txt"
done

# Where a W3 step's time goes: kernel launches, host synchronisations (memcpy and
# cuStreamSynchronize calls) and GPU time per kernel, from Nsight Systems when it is installed.
if command -v nsys > /dev/null; then
    log "profile: one short W3 fit on the GPU under nsys"
    timeout 240 nsys profile --force-overwrite true -o "$out/w3-fit" --stats=true \
        "$dir/bench" W3 --device cuda --epochs 2 --only fit > "$out/nsys-w3.txt" 2>&1 ||
        echo "nsys failed (exit $?)" | tee -a "$out/summary.txt"
    grep -E "cuLaunchKernel|cuMemcpy|cuStreamSynchronize|cuCtxSynchronize" "$out/nsys-w3.txt" |
        head -n 12 | tee -a "$out/summary.txt"
else
    echo "nsys not found: no kernel-launch or synchronisation counts" | tee -a "$out/summary.txt"
fi

kill $sampler 2>/dev/null || true
peak=$(sort -n "$out/gpu-mem-samples.txt" | tail -n1)
log "peak GPU memory: ${peak:-unknown} MiB"
exit "$rc"
