// keras-rs: the two steps of Dense's fused op on Cuda (f32) that are not cuBLAS products, the
// CUDA kernels beside cpu_kernel.rs. The op is
//   forward:  y = x . kernel (cuBLAS), then keras_dense_bias: y += bias, Keras's ReLU
//   backward: keras_dense_bias_grad (ReLU mask, bias gradient), then kernel gradient
//             (cuBLAS) and, unless x is the data batch, input gradient (cuBLAS)
// all row-major, on dfdx's stream, with the same arithmetic as the CPU's fused op (ReLU keeps
// NaN; its gradient is the upstream one where y > 0, else 0).

#include <stddef.h>

// keras_dense_bias_grad's block: 32 columns x 8 row lanes.
#define KERAS_DENSE_COLS 32
#define KERAS_DENSE_ROW_LANES 8

// y[r, c] = y[r, c] + bias[c] for the rows x cols output, then (relu != 0) 0 where the sum is
// below 0 (NaN stays NaN, as Keras's relu). One thread per element, grid-stride.
extern "C" __global__ void keras_dense_bias(size_t rows, size_t cols, unsigned int relu,
                                            const float *bias, float *y) {
    const size_t n = rows * cols;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = y[i] + bias[i % cols];
        if (relu && v < 0.0f) {
            v = 0.0f;
        }
        y[i] = v;
    }
}

// The bias gradient of the rows x cols upstream gradient g, masked by the ReLU when y is given
// (the masked gradient, which the products read, is written to `masked`).
//
// Block (x, y) takes columns 32x .. 32x + 31 of rows y * rows_per_block onwards (at most
// rows_per_block of them); its 256 threads are 8 row lanes of 32 columns, lane l summing rows
// l, l + 8, ... of its range in order. The 8 partial sums of a column are added in lane order;
// with one row block (gridDim.y == 1) the block adds its sums to out[c] (accumulate != 0: the
// bias's gradient), else it writes them to out[y * cols + c] (the scratch that
// keras_dense_sum_chunks adds up), so the result does not depend on the schedule.
extern "C" __global__ void keras_dense_bias_grad(size_t rows, size_t cols, size_t rows_per_block,
                                                 const float *g, const float *y, float *masked,
                                                 float *out, unsigned int accumulate) {
    __shared__ float partial[KERAS_DENSE_ROW_LANES][KERAS_DENSE_COLS];
    const unsigned int col_lane = threadIdx.x % KERAS_DENSE_COLS;
    const unsigned int row_lane = threadIdx.x / KERAS_DENSE_COLS;
    const size_t c = (size_t)blockIdx.x * KERAS_DENSE_COLS + col_lane;
    const size_t first = (size_t)blockIdx.y * rows_per_block;
    const size_t end = first + rows_per_block < rows ? first + rows_per_block : rows;
    float sum = 0.0f;
    if (c < cols) {
        for (size_t r = first + row_lane; r < end; r += KERAS_DENSE_ROW_LANES) {
            const size_t i = r * cols + c;
            float v = g[i];
            if (y) {
                v = y[i] > 0.0f ? v : 0.0f;
                masked[i] = v;
            }
            sum += v;
        }
    }
    partial[row_lane][col_lane] = sum;
    __syncthreads();
    if (row_lane == 0 && c < cols) {
        float total = partial[0][col_lane];
        for (int l = 1; l < KERAS_DENSE_ROW_LANES; l++) {
            total += partial[l][col_lane];
        }
        if (accumulate) {
            out[c] += total;
        } else {
            out[(size_t)blockIdx.y * cols + c] = total;
        }
    }
}

// grad_bias[c] += scratch[0 * cols + c] + scratch[1 * cols + c] + ... (chunks rows, in order):
// the row blocks' sums of keras_dense_bias_grad. One thread per column, grid-stride.
extern "C" __global__ void keras_dense_sum_chunks(size_t chunks, size_t cols,
                                                  const float *scratch, float *grad_bias) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += stride) {
        float total = 0.0f;
        for (size_t k = 0; k < chunks; k++) {
            total += scratch[k * cols + c];
        }
        grad_bias[c] += total;
    }
}
