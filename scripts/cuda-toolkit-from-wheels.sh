#!/usr/bin/env bash
# Recreate a CUDA 13.0 "toolkit root" (CUDA_ROOT) from NVIDIA's PyPI wheels, enough to build
# keras-rs with `--features cuda` (dfdx 0.13 / cudarc 0.9.15) on a machine without a GPU or a
# CUDA install, e.g. for `scripts/gpu-check.sh --build`.
#
#   cuda-toolkit-from-wheels.sh [CUDA_ROOT] [VENV]        (defaults: ~/.cache/cuda13 ~/.cache/cudawheels)
#   env: STUB_LIBS=1   link stubs for cuBLAS/cuBLASLt/NVRTC too, instead of installing the real
#                      libraries (saves the ~420 MB cuBLAS wheel; the real ones check at link time
#                      that every symbol the binaries use exists in CUDA 13)
#        CUDARC_SRC=…  cudarc 0.9 source dir (default: newest ~/.cargo/registry/src/*/cudarc-0.9.*)
#        REPO=…        repository whose Cargo.lock is fetched if cudarc's source is missing
#                      (default: the git root of the current directory)
#
# What it makes (everything but lib64/ and the stubs is a symlink into the wheels' nvidia/cu13/):
#   $CUDA_ROOT/bin      -> nvcc, ptxas, cudafe++, fatbinary, nvlink, nvcc.profile
#   $CUDA_ROOT/include  -> cuda.h, cuda_runtime.h, crt/, cuda_fp16.h, cccl/ (nv/target, cuda/std)
#   $CUDA_ROOT/nvvm     -> cicc, libdevice
#   $CUDA_ROOT/lib64/   libcublas.so{,.13} libcublasLt.so{,.13} libnvrtc.so{,.13} libcudart.so{,.13}
#                       (symlinks to the wheels' .so.13 files, or stubs with STUB_LIBS=1)
#   $CUDA_ROOT/lib64/stubs/libcuda.so  link stub, soname libcuda.so.1 (the real one is the driver's)
#   $CUDA_ROOT/lib64/stubs/libnccl.so  link stub, soname libnccl.so.2 (the real one is the GPU
#                       machine's, e.g. PyTorch's nvidia/nccl/lib)
#
# Then build with:  CUDA_ROOT=$CUDA_ROOT CUDA_COMPUTE_CAP=90 PATH=$CUDA_ROOT/bin:$PATH \
#                   scripts/gpu-check.sh --build .gpubin
# (`scripts/gpu-check.sh --build` runs this script itself when it finds no nvcc.)
set -euo pipefail

CUDA_ROOT="${1:-$HOME/.cache/cuda13}"
VENV="${2:-$HOME/.cache/cudawheels}"
CUDA_VER=13.0.88          # nvcc, crt, nvvm, runtime, nvrtc of CUDA 13.0 Update 2 (driver >= 580)
CCCL_VER=13.0.85          # CCCL (nv/target, libcu++) that cuda_fp16.h includes
CUBLAS_VER=13.0.2.14      # cuBLAS of CUDA 13.0

pkgs=(
    "nvidia-cuda-nvcc==$CUDA_VER"
    "nvidia-cuda-crt==$CUDA_VER"
    "nvidia-nvvm==$CUDA_VER"
    "nvidia-cuda-runtime==$CUDA_VER"
    "nvidia-cuda-nvrtc==$CUDA_VER"
    "nvidia-cuda-cccl==$CCCL_VER"
)
[[ "${STUB_LIBS:-0}" == 1 ]] || pkgs+=("nvidia-cublas==$CUBLAS_VER")

[[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "${pkgs[@]}"

W=$("$VENV/bin/python" -c 'import os, nvidia; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')
[[ -x "$W/bin/nvcc" && -f "$W/include/cuda.h" && -f "$W/include/cccl/nv/target" ]] ||
    { echo "unexpected wheel layout under $W" >&2; exit 1; }

rm -rf "$CUDA_ROOT"
mkdir -p "$CUDA_ROOT/lib64/stubs"
for d in bin include nvvm; do ln -s "$W/$d" "$CUDA_ROOT/$d"; done

# cudarc 0.9 links -lcuda -lnvrtc -lcublas -lcublasLt (build.rs, features driver+nvrtc+cublas):
# libcuda.so comes from the driver, so it is always a stub made from cudarc's own bindings.
if [[ -z "${CUDARC_SRC:-}" ]]; then
    find_cudarc() {
        { ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.9.* 2>/dev/null || true; } |
            sort -V | tail -n1
    }
    CUDARC_SRC=$(find_cudarc)
    if [[ -z "$CUDARC_SRC" ]]; then
        repo="${REPO:-$(git rev-parse --show-toplevel 2>/dev/null || pwd)}"
        cargo fetch --quiet --manifest-path "$repo/Cargo.toml"
        CUDARC_SRC=$(find_cudarc)
    fi
fi
[[ -f "$CUDARC_SRC/src/driver/sys.rs" ]] || { echo "cudarc 0.9 source not found" >&2; exit 1; }

stub() {  # stub SYS_RS SONAME OUT : a shared library defining every function the bindings declare
    local tmp; tmp=$(mktemp -d)
    grep -o 'pub fn [A-Za-z_][A-Za-z0-9_]*' "$1" | awk '{print $3}' | sort -u |
        sed 's/.*/void &(void) {}/' > "$tmp/stub.c"
    cc -shared -fPIC -nostdlib -o "$3" -Wl,-soname,"$2" "$tmp/stub.c"
    rm -rf "$tmp"
}
stub "$CUDARC_SRC/src/driver/sys.rs" libcuda.so.1 "$CUDA_ROOT/lib64/stubs/libcuda.so"
ln -s libcuda.so "$CUDA_ROOT/lib64/stubs/libcuda.so.1"
# NCCL (feature `nccl`) is linked -lnccl; the GPU machine's own libnccl.so.2 (e.g. PyTorch's)
# is the one that runs, so a link stub made from cudarc's NCCL bindings is enough here.
stub "$CUDARC_SRC/src/nccl/sys.rs" libnccl.so.2 "$CUDA_ROOT/lib64/stubs/libnccl.so"

if [[ "${STUB_LIBS:-0}" == 1 ]]; then
    stub "$CUDARC_SRC/src/cublas/sys.rs" libcublas.so.13 "$CUDA_ROOT/lib64/libcublas.so.13"
    stub "$CUDARC_SRC/src/cublaslt/sys.rs" libcublasLt.so.13 "$CUDA_ROOT/lib64/libcublasLt.so.13"
    stub "$CUDARC_SRC/src/nvrtc/sys.rs" libnvrtc.so.13 "$CUDA_ROOT/lib64/libnvrtc.so.13"
    for l in libcublas libcublasLt libnvrtc; do ln -s "$l.so.13" "$CUDA_ROOT/lib64/$l.so"; done
else
    for l in libcublas libcublasLt libnvrtc; do
        ln -s "$W/lib/$l.so.13" "$CUDA_ROOT/lib64/$l.so.13"
        ln -s "$l.so.13" "$CUDA_ROOT/lib64/$l.so"
    done
fi
ln -s "$W/lib/libcudart.so.13" "$CUDA_ROOT/lib64/libcudart.so.13"
ln -s libcudart.so.13 "$CUDA_ROOT/lib64/libcudart.so"

"$CUDA_ROOT/bin/nvcc" --version | tail -n2
"$CUDA_ROOT/bin/nvcc" --list-gpu-code | grep -qx sm_90 || { echo "nvcc lacks sm_90" >&2; exit 1; }
echo "CUDA_ROOT ready: $CUDA_ROOT"
