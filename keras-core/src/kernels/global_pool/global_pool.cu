// keras-rs: Keras's global average pooling, the CUDA kernels beside cpu_kernel.rs. x is
// (rows, steps, c) row-major; y[r, k] is the sum of x[r, s, k] over the steps in order, divided
// by their count: the CPU op's sums in the CPU op's order (no atomics), so the same bits. The
// backward adds g[r, k] / steps to every step's gradient. One thread per output value (forward)
// or input value (backward), grid-stride.

#include <stddef.h>

extern "C" __global__ void keras_global_avg_pool(size_t rows, size_t steps, size_t c,
                                                 const float *x, float *y) {
    const size_t total = rows * c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const size_t r = i / c;
        const float *column = x + r * steps * c + (i - r * c);
        float sum = 0.0f;
        for (size_t s = 0; s < steps; ++s) {
            sum += column[s * c];
        }
        y[i] = sum / (float)steps;
    }
}

extern "C" __global__ void keras_global_avg_pool_grad(size_t rows, size_t steps, size_t c,
                                                      const float *g, float *gx) {
    const size_t total = rows * steps * c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const size_t r = i / (steps * c);
        gx[i] += g[r * c + i % c] / (float)steps;
    }
}
