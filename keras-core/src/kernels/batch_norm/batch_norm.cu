// keras-rs: Keras's batch normalization over the last axis of a rows x c batch (row-major), the
// CUDA kernels beside cpu_kernel.rs, with columns.rs's formulas. `stats` holds 2 x c floats:
// each feature's mean, then its 1 / sqrt(var + eps).
//   training forward:  sums(x) -> mean; sums((x - mean)^2) -> var, rstd, the moving update;
//                      y = (x - mean) * (gamma * rstd) + beta
//   inference forward: mean = moving mean, rstd from the moving variance; y as above
//   backward:          sums(g), sums(g * xhat) -> dbeta, dgamma (added to); then
//                      dx += gamma * rstd * (g - sum(g) / n - xhat * sum(g * xhat) / n) in
//                      training, dx += gamma * rstd * g in inference
// A per-feature sum over the rows goes by blocks of 32 columns x 8 row lanes, block (x, y)
// taking rows y * rows_per_block onwards, lane l summing rows l, l + 8, ... in order, the lanes
// in order into partial[y * c + column]; a finishing kernel adds the row blocks in order. The
// results do not depend on the schedule.

#include <stddef.h>

#include "../column_lanes.cuh"

#define KERAS_BN_SUM_X 0u
#define KERAS_BN_SUM_SQUARES 1u
#define KERAS_BN_SUM_GRADS 2u

// One row block's per-feature sums: mode KERAS_BN_SUM_X, a = sum(x); KERAS_BN_SUM_SQUARES,
// a = sum((x - mean)^2); KERAS_BN_SUM_GRADS, a = sum(g), b = sum(g * (x - mean) * rstd).
extern "C" __global__ void keras_bn_sums(size_t rows, size_t c, size_t rows_per_block,
                                         unsigned int mode, const float *x, const float *g,
                                         const float *stats, float *partial_a,
                                         float *partial_b) {
    const unsigned int row_lane = threadIdx.x / KERAS_LANE_COLS;
    const size_t j = (size_t)blockIdx.x * KERAS_LANE_COLS + threadIdx.x % KERAS_LANE_COLS;
    const size_t first = (size_t)blockIdx.y * rows_per_block;
    const size_t end = first + rows_per_block < rows ? first + rows_per_block : rows;
    float a = 0.0f;
    float b = 0.0f;
    if (j < c) {
        for (size_t r = first + row_lane; r < end; r += KERAS_LANE_ROWS) {
            const float v = x[r * c + j];
            if (mode == KERAS_BN_SUM_X) {
                a += v;
            } else if (mode == KERAS_BN_SUM_SQUARES) {
                const float d = v - stats[j];
                a += d * d;
            } else {
                const float gv = g[r * c + j];
                a += gv;
                b += gv * ((v - stats[j]) * stats[c + j]);
            }
        }
    }
    float ta = 0.0f;
    float tb = 0.0f;
    keras_column_lanes_sum2(a, b, &ta, &tb);
    if (row_lane == 0 && j < c) {
        partial_a[(size_t)blockIdx.y * c + j] = ta;
        partial_b[(size_t)blockIdx.y * c + j] = tb;
    }
}

// mean[j] = (partial[0 * c + j] + partial[1 * c + j] + ...) / rows, into stats[j]. One thread
// per feature, grid-stride.
extern "C" __global__ void keras_bn_finish_mean(size_t blocks, size_t c, size_t rows,
                                                const float *partial, float *stats) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x; j < c; j += stride) {
        float total = 0.0f;
        for (size_t k = 0; k < blocks; k++) {
            total += partial[k * c + j];
        }
        stats[j] = total / (float)rows;
    }
}

// var = (the row blocks' sums of squares) / rows; stats[c + j] = 1 / sqrt(var + eps); the moving
// statistics become moving * keep + batch * take (dfdx's axpy). One thread per feature.
extern "C" __global__ void keras_bn_finish_var(size_t blocks, size_t c, size_t rows, float eps,
                                               float keep, float take, const float *partial,
                                               float *stats, float *moving_mean,
                                               float *moving_var) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x; j < c; j += stride) {
        float total = 0.0f;
        for (size_t k = 0; k < blocks; k++) {
            total += partial[k * c + j];
        }
        const float var = total / (float)rows;
        stats[c + j] = 1.0f / sqrtf(var + eps);
        moving_mean[j] = moving_mean[j] * keep + stats[j] * take;
        moving_var[j] = moving_var[j] * keep + var * take;
    }
}

// Inference: stats = [moving mean, 1 / sqrt(moving variance + eps)]. One thread per feature.
extern "C" __global__ void keras_bn_infer_stats(size_t c, float eps, const float *moving_mean,
                                                const float *moving_var, float *stats) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x; j < c; j += stride) {
        stats[j] = moving_mean[j];
        stats[c + j] = 1.0f / sqrtf(moving_var[j] + eps);
    }
}

// y = (x - mean) * (gamma * rstd) + beta. One thread per element, grid-stride.
extern "C" __global__ void keras_bn_normalize(size_t rows, size_t c, const float *x,
                                              const float *stats, const float *gamma,
                                              const float *beta, float *y) {
    const size_t n = rows * c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t j = i % c;
        y[i] = (x[i] - stats[j]) * (gamma[j] * stats[c + j]) + beta[j];
    }
}

// The row blocks' gradient sums added in order: sums = [sum(g), sum(g * xhat)] (2 x c floats,
// for the input's gradient), dbeta += sum(g), dgamma += sum(g * xhat). One thread per feature.
extern "C" __global__ void keras_bn_finish_grad(size_t blocks, size_t c, const float *partial_a,
                                                const float *partial_b, float *sums,
                                                float *dgamma, float *dbeta) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x; j < c; j += stride) {
        float ta = 0.0f;
        float tb = 0.0f;
        for (size_t k = 0; k < blocks; k++) {
            ta += partial_a[k * c + j];
            tb += partial_b[k * c + j];
        }
        sums[j] = ta;
        sums[c + j] = tb;
        dbeta[j] += ta;
        dgamma[j] += tb;
    }
}

// dx += gamma * rstd * (g - sum(g) / rows - xhat * sum(g * xhat) / rows) (training != 0), or
// dx += gamma * rstd * g. One thread per element, grid-stride.
extern "C" __global__ void keras_bn_input_grad(size_t rows, size_t c, unsigned int training,
                                               const float *x, const float *stats,
                                               const float *gamma, const float *g,
                                               const float *sums, float *dx) {
    const size_t n = rows * c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    const float count = (float)rows;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t j = i % c;
        const float rstd = stats[c + j];
        float inner = g[i];
        if (training) {
            const float xhat = (x[i] - stats[j]) * rstd;
            inner = g[i] - sums[j] / count - xhat * (sums[c + j] / count);
        }
        dx[i] += gamma[j] * rstd * inner;
    }
}
