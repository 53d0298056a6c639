// keras-rs: Keras's inverted dropout with a counter-based mask, the CUDA kernels beside
// cpu_kernel.rs. Element i is kept when the i-th output of SplitMix64 seeded `seed`, shifted to
// 53 bits, is at least `threshold` (ceil(rate * 2^53): Keras's uniform >= rate), as
// DropoutMask::keeps on the host; kept elements are divided by keep = 1 - rate, the others are
// 0. Forward y = mask(x); backward grad_x += mask(grad_y). One thread per element, grid-stride;
// f32 and f64.

#include <stddef.h>

__device__ static bool keras_dropout_keeps(unsigned long long seed, unsigned long long threshold,
                                           size_t i) {
    unsigned long long z = seed + ((unsigned long long)i + 1ull) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (z >> 11) >= threshold;
}

template <class T>
__device__ static void keras_dropout_forward(size_t n, unsigned long long seed,
                                             unsigned long long threshold, T keep, const T *x,
                                             T *y) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = keras_dropout_keeps(seed, threshold, i) ? x[i] / keep : (T)0;
    }
}

template <class T>
__device__ static void keras_dropout_backward(size_t n, unsigned long long seed,
                                              unsigned long long threshold, T keep, const T *g,
                                              T *gx) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        if (keras_dropout_keeps(seed, threshold, i)) {
            gx[i] += g[i] / keep;
        }
    }
}

extern "C" __global__ void keras_dropout_forward_f32(size_t n, unsigned long long seed,
                                                     unsigned long long threshold, float keep,
                                                     const float *x, float *y) {
    keras_dropout_forward(n, seed, threshold, keep, x, y);
}

extern "C" __global__ void keras_dropout_backward_f32(size_t n, unsigned long long seed,
                                                      unsigned long long threshold, float keep,
                                                      const float *g, float *gx) {
    keras_dropout_backward(n, seed, threshold, keep, g, gx);
}

extern "C" __global__ void keras_dropout_forward_f64(size_t n, unsigned long long seed,
                                                     unsigned long long threshold, double keep,
                                                     const double *x, double *y) {
    keras_dropout_forward(n, seed, threshold, keep, x, y);
}

extern "C" __global__ void keras_dropout_backward_f64(size_t n, unsigned long long seed,
                                                      unsigned long long threshold, double keep,
                                                      const double *g, double *gx) {
    keras_dropout_backward(n, seed, threshold, keep, g, gx);
}
