// keras-rs: the CUDA built-ins keras-core's kernels (src/kernels/**/*.cu) use, for running those
// kernels on the CPU in tests (the `cuda-emulation` feature). The build script compiles each
// `.cu` file as C++ with this header included first; runtime.cpp runs a launch block after
// block, each block's threads as fibers that switch at `__syncthreads` (a real barrier: no
// thread passes it before every live thread of its block reaches it), in a fixed order, so runs
// are deterministic; `__shared__` arrays are one per kernel, since blocks never overlap.
//
// Not emulated (the kernels do not use them): warp-level built-ins, cooperative groups,
// textures, streams and events; math functions are the host C library's, not CUDA's (a few
// ulps apart on transcendental functions).
#pragma once

#include <math.h>
#include <stddef.h>
#include <string.h>

#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
// One array per kernel: the emulation runs one block at a time.
#define __shared__ static

struct keras_emu_dim3 {
    unsigned int x, y, z;
};

extern thread_local keras_emu_dim3 threadIdx;
extern thread_local keras_emu_dim3 blockIdx;
extern thread_local keras_emu_dim3 blockDim;
extern thread_local keras_emu_dim3 gridDim;

// The block's barrier (every thread of the block that has not returned waits for the others).
void __syncthreads();
// __syncthreads, then whether `predicate` was non-zero for every (any) thread of the block.
int __syncthreads_and(int predicate);
int __syncthreads_or(int predicate);
// The block's dynamic shared memory (`extern __shared__ T name[]`, rewritten by the build
// script into a pointer to this), zeroed before the block starts.
void *keras_emu_dynamic_shared();

// Atomics: GCC's __atomic built-ins on the same memory (read-modify-writes that stay correct
// whatever the schedule).
template <class T> static inline T keras_emu_atomic_add_int(T *address, T value) {
    return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST);
}
template <class T> static inline T keras_emu_atomic_add_float(T *address, T value) {
    T old;
    __atomic_load(address, &old, __ATOMIC_SEQ_CST);
    for (;;) {
        T desired = old + value;
        if (__atomic_compare_exchange(address, &old, &desired, false, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST)) {
            return old;
        }
    }
}
static inline int atomicAdd(int *a, int v) { return keras_emu_atomic_add_int(a, v); }
static inline unsigned int atomicAdd(unsigned int *a, unsigned int v) {
    return keras_emu_atomic_add_int(a, v);
}
static inline unsigned long long atomicAdd(unsigned long long *a, unsigned long long v) {
    return keras_emu_atomic_add_int(a, v);
}
static inline float atomicAdd(float *a, float v) { return keras_emu_atomic_add_float(a, v); }
static inline double atomicAdd(double *a, double v) { return keras_emu_atomic_add_float(a, v); }

static inline unsigned long long atomicMax(unsigned long long *a, unsigned long long v) {
    unsigned long long old = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(a, &old, v, false, __ATOMIC_SEQ_CST,
                                                   __ATOMIC_SEQ_CST)) {
    }
    return old;
}
static inline unsigned long long atomicExch(unsigned long long *a, unsigned long long v) {
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);
}
// Orders this thread's writes before its later ones, for every thread of the device.
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// Bit casts.
template <class To, class From> static inline To keras_emu_bits(const From x) {
    static_assert(sizeof(To) == sizeof(From), "a bit cast keeps the size");
    To y;
    memcpy(&y, &x, sizeof y);
    return y;
}
static inline int __float_as_int(float x) { return keras_emu_bits<int>(x); }
static inline unsigned int __float_as_uint(float x) { return keras_emu_bits<unsigned int>(x); }
static inline float __int_as_float(int x) { return keras_emu_bits<float>(x); }
static inline float __uint_as_float(unsigned int x) { return keras_emu_bits<float>(x); }

// A kernel's parameters from a launch's `void **` (each entry points at one parameter's value,
// as cuLaunchKernel takes them).
template <class... A, size_t... I>
static inline void keras_emu_call(void (*kernel)(A...), void **params,
                                  std::index_sequence<I...>) {
    kernel(*static_cast<const std::remove_cv_t<std::remove_reference_t<A>> *>(params[I])...);
}
template <class... A> static inline void keras_emu_invoke(void (*kernel)(A...), void **params) {
    keras_emu_call(kernel, params, std::index_sequence_for<A...>{});
}
// The number of parameters a kernel takes.
template <class... A> static inline size_t keras_emu_arity(void (*)(A...)) {
    return sizeof...(A);
}
