// keras-rs: Keras's Normalization layer, the CUDA kernels beside cpu_kernel.rs. x is (rows, c)
// row-major, n = rows * c. With s = max(sqrt(variance[k]), min_std) for feature k, the forward
// writes y = (x - mean[k]) / s, or with invert y = x * s + mean[k]; the backward adds
// (1 / s) * g (invert: s * g) to the input's gradient. Built with --fmad=false and IEEE square
// root and division: the CPU op's arithmetic, so its bits. One thread per value, grid-stride.

#include <stddef.h>

// max(sqrt(v), min_std) as dfdx's sqrt then clamp: a NaN stays NaN.
__device__ static float keras_normalize_std(float v, float min_std) {
    const float s = sqrtf(v);
    return s < min_std ? min_std : s;
}

extern "C" __global__ void keras_normalize(size_t n, size_t c, unsigned int invert,
                                           float min_std, const float *x, const float *mean,
                                           const float *variance, float *y) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t k = i % c;
        const float s = keras_normalize_std(variance[k], min_std);
        y[i] = invert ? x[i] * s + mean[k] : (x[i] - mean[k]) / s;
    }
}

extern "C" __global__ void keras_normalize_grad(size_t n, size_t c, unsigned int invert,
                                                float min_std, const float *variance,
                                                const float *g, float *gx) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float s = keras_normalize_std(variance[i % c], min_std);
        const float d = invert ? s : 1.0f / s;
        gx[i] += d * g[i];
    }
}
