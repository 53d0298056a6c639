// keras-rs: Keras's layer normalization over the last axis of a rows x m batch (row-major), the
// CUDA kernels beside cpu_kernel.rs, with rows.rs's formulas:
//   forward:  mean = sum(x) / m, var = sum((x - mean)^2) / m, rstd = 1 / sqrt(var + eps),
//             y = (x - mean) * rstd * gamma + beta; [mean, rstd] per row kept in `stats`
//   backward: xhat = (x - mean) * rstd, dxhat = g * gamma,
//             dx += (dxhat - sum(dxhat) / m - xhat * sum(dxhat * xhat) / m) * rstd,
//             dgamma += sum over rows of g * xhat, dbeta += sum over rows of g
// A row's sums are one block's (blockDim.x a power of two up to 256), added in a fixed-order
// tree; the parameters' sums over rows go by blocks of 32 columns and 8 row lanes, lane l
// summing rows l, l + 8, ... in order, then the lanes in order, then (with several row blocks)
// the row blocks in order: the results do not depend on the schedule.

#include <stddef.h>

#include "../column_lanes.cuh"

#define KERAS_LN_MAX_THREADS 256

// Adds partial[0..blockDim.x) into partial[0] in a fixed-order tree. Every thread of the block
// must call it (it synchronises the block).
__device__ static void keras_ln_tree(float *partial) {
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            partial[threadIdx.x] += partial[threadIdx.x + half];
        }
        __syncthreads();
    }
}

// One block per row (grid-stride over the rows).
extern "C" __global__ void keras_layer_norm(size_t rows, size_t m, float eps, const float *x,
                                            const float *gamma, const float *beta, float *y,
                                            float *stats) {
    __shared__ float sums[KERAS_LN_MAX_THREADS];
    __shared__ float squares[KERAS_LN_MAX_THREADS];
    const float count = (float)m;
    for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * m;
        float s = 0.0f;
        for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
            s += xr[j];
        }
        sums[threadIdx.x] = s;
        __syncthreads();
        keras_ln_tree(sums);
        const float mean = sums[0] / count;
        float q = 0.0f;
        for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
            const float d = xr[j] - mean;
            q += d * d;
        }
        squares[threadIdx.x] = q;
        __syncthreads();
        keras_ln_tree(squares);
        const float rstd = 1.0f / sqrtf(squares[0] / count + eps);
        for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
            y[r * m + j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
        }
        if (threadIdx.x == 0) {
            stats[2 * r] = mean;
            stats[2 * r + 1] = rstd;
        }
        // No barrier before the next row: a thread writes sums[] again only after every thread
        // passed this row's barriers on squares[] (so read sums[0]), and squares[] only after
        // every thread passed the next row's barriers on sums[] (so read squares[0]).
    }
}

// The input's gradient, added to dx; one block per row (grid-stride over the rows).
extern "C" __global__ void keras_layer_norm_input_grad(size_t rows, size_t m, const float *x,
                                                       const float *gamma, const float *stats,
                                                       const float *g, float *dx) {
    __shared__ float sums[KERAS_LN_MAX_THREADS];
    __shared__ float dots[KERAS_LN_MAX_THREADS];
    const float count = (float)m;
    for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * m;
        const float *gr = g + r * m;
        const float mean = stats[2 * r];
        const float rstd = stats[2 * r + 1];
        float a = 0.0f;
        float b = 0.0f;
        for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
            const float dxhat = gr[j] * gamma[j];
            a += dxhat;
            b += dxhat * ((xr[j] - mean) * rstd);
        }
        sums[threadIdx.x] = a;
        dots[threadIdx.x] = b;
        __syncthreads();
        keras_ln_tree(sums);
        keras_ln_tree(dots);
        const float mean_dxhat = sums[0] / count;
        const float mean_dot = dots[0] / count;
        for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
            const float xhat = (xr[j] - mean) * rstd;
            dx[r * m + j] += (gr[j] * gamma[j] - mean_dxhat - xhat * mean_dot) * rstd;
        }
        // Before the next row writes sums[] and dots[], which every thread read just above.
        __syncthreads();
    }
}

// gamma's and beta's gradients. Block (x, y) takes columns 32x .. 32x + 31 of rows
// y * rows_per_block onwards (at most rows_per_block of them). With one row block
// (accumulate != 0) it adds its sums to out_gamma[c] and out_beta[c], the gradients; else it
// writes them to out_gamma[y * m + c] and out_beta[y * m + c], the scratch that
// keras_layer_norm_sum_chunks adds up.
extern "C" __global__ void keras_layer_norm_param_grad(size_t rows, size_t m,
                                                       size_t rows_per_block, const float *x,
                                                       const float *stats, const float *g,
                                                       float *out_gamma, float *out_beta,
                                                       unsigned int accumulate) {
    const unsigned int row_lane = threadIdx.x / KERAS_LANE_COLS;
    const size_t c = (size_t)blockIdx.x * KERAS_LANE_COLS + threadIdx.x % KERAS_LANE_COLS;
    const size_t first = (size_t)blockIdx.y * rows_per_block;
    const size_t end = first + rows_per_block < rows ? first + rows_per_block : rows;
    float sg = 0.0f;
    float sb = 0.0f;
    if (c < m) {
        for (size_t r = first + row_lane; r < end; r += KERAS_LANE_ROWS) {
            const float gv = g[r * m + c];
            sg += gv * ((x[r * m + c] - stats[2 * r]) * stats[2 * r + 1]);
            sb += gv;
        }
    }
    float tg = 0.0f;
    float tb = 0.0f;
    keras_column_lanes_sum2(sg, sb, &tg, &tb);
    if (row_lane == 0 && c < m) {
        if (accumulate) {
            out_gamma[c] += tg;
            out_beta[c] += tb;
        } else {
            out_gamma[(size_t)blockIdx.y * m + c] = tg;
            out_beta[(size_t)blockIdx.y * m + c] = tb;
        }
    }
}

// dgamma[c] += scratch_gamma[0 * m + c] + scratch_gamma[1 * m + c] + ... (chunks rows, in
// order), and the same for beta. One thread per column, grid-stride.
extern "C" __global__ void keras_layer_norm_sum_chunks(size_t chunks, size_t m,
                                                       const float *scratch_gamma,
                                                       const float *scratch_beta, float *dgamma,
                                                       float *dbeta) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < m; c += stride) {
        float tg = 0.0f;
        float tb = 0.0f;
        for (size_t k = 0; k < chunks; k++) {
            tg += scratch_gamma[k * m + c];
            tb += scratch_beta[k * m + c];
        }
        dgamma[c] += tg;
        dbeta[c] += tb;
    }
}
