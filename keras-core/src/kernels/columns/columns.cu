// keras-rs: a column-sum metric's state on the device (Keras's FBetaScore and R2Score), the
// CUDA kernel beside cpu_kernel.rs. One block per slot: with one slot per column, block s takes
// the rows of column s; with one slot, every element. Each thread sums its elements' four
// weighted quantities in f32, a fixed-order tree over the block gives the batch's sums, and
// thread 0 adds them to the state (and, for R2, block 0 adds rows x cols to the sample count).
//
//   rows, cols   the batch: rows x cols predictions and dense labels (row-major)
//   slots        cols, or 1 for all columns together
//   kind         COLUMNS_FSCORE or COLUMNS_R2
//   threshold    FScore: binarise p > threshold; has_threshold 0: p is its row's maximum (and
//                |p| > 1e-9)
//   p, t, w      predictions, labels, per-row weights or null
//   state        four sums of `slots` values, then R2's sample count

#include <stddef.h>

#include "../block_sum4.cuh"

#define COLUMNS_FSCORE 0u
#define COLUMNS_R2 1u

#define KERAS_COLUMN_THREADS 256

struct ColumnArgs {
    size_t rows;
    size_t cols;
    size_t slots;
    unsigned int kind;
    unsigned int has_threshold;
    float threshold;
};

extern "C" __global__ void keras_column_update(const ColumnArgs a, const float *p, const float *t,
                                               const float *w, float *state) {
    __shared__ float sums[4 * KERAS_COLUMN_THREADS];
    const size_t slot = blockIdx.x;
    const bool one = a.slots == 1;
    const size_t n = one ? a.rows * a.cols : a.rows;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (size_t e = threadIdx.x; e < n; e += blockDim.x) {
        const size_t r = one ? e / a.cols : e;
        const size_t c = one ? e % a.cols : slot;
        const float pv = p[r * a.cols + c];
        const float tv = t[r * a.cols + c];
        const float weight = w ? w[r] : 1.0f;
        if (a.kind == COLUMNS_FSCORE) {
            bool positive;
            if (a.has_threshold) {
                positive = pv > a.threshold;
            } else {
                float max = -INFINITY;
                for (size_t k = 0; k < a.cols; k++) {
                    max = fmaxf(max, p[r * a.cols + k]);
                }
                positive = pv >= max && fabsf(pv) > 1e-9f;
            }
            const float b = positive ? 1.0f : 0.0f;
            s0 += w ? b * tv * weight : b * tv;
            s1 += w ? b * (1.0f - tv) * weight : b * (1.0f - tv);
            s2 += w ? (1.0f - b) * tv * weight : (1.0f - b) * tv;
            s3 += w ? tv * weight : tv;
        } else {
            const float wt = tv * weight;
            s0 += wt;
            s1 += tv * wt;
            s2 += (tv - pv) * (tv - pv) * weight;
            s3 += weight;
        }
    }
    keras_block_sum4(sums, s0, s1, s2, s3);
    if (threadIdx.x == 0) {
        for (int k = 0; k < 4; k++) {
            state[k * a.slots + slot] += sums[k * blockDim.x];
        }
        if (a.kind == COLUMNS_R2 && slot == 0) {
            state[4 * a.slots] += (float)(a.rows * a.cols);
        }
    }
}
