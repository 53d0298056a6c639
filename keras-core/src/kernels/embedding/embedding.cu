// keras-rs: Keras's Embedding on float-coded token ids, the CUDA kernels beside cpu_kernel.rs.
// Row p of the output (m values) is the table's row at ids[p]; an id that is not an integer in
// [0, vocab) reads row 0 (as row_of on the host, compared in double, which holds every float
// and vocabulary size exactly). One thread per output value, grid-stride. The backward adds the
// output's gradient to the table's rows with atomicAdd: where an id repeats, the order of the
// additions (and so the last bits of the sum) follows the schedule, as dfdx's gather's did.

#include <stddef.h>

__device__ static size_t keras_embedding_row(float id, size_t vocab) {
    const double v = (double)id;
    return (v >= 0.0 && floor(v) == v && v < (double)vocab) ? (size_t)v : 0;
}

extern "C" __global__ void keras_embedding_lookup(size_t n, size_t vocab, size_t m,
                                                  const float *ids, const float *table,
                                                  float *out) {
    const size_t total = n * m;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const size_t p = i / m;
        out[i] = table[keras_embedding_row(ids[p], vocab) * m + (i - p * m)];
    }
}

extern "C" __global__ void keras_embedding_grad(size_t n, size_t vocab, size_t m,
                                                const float *ids, const float *g,
                                                float *grad_table) {
    const size_t total = n * m;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const size_t p = i / m;
        atomicAdd(grad_table + keras_embedding_row(ids[p], vocab) * m + (i - p * m), g[i]);
    }
}
