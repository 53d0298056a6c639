// keras-rs: a confusion-matrix metric's counts on the device (Keras's
// update_confusion_matrix_variables), the CUDA kernel beside cpu_kernel.rs. One block per
// (threshold i, label column l): each thread takes elements e = threadIdx.x, + blockDim.x, ...
// of the batch's selected predictions (rows x width, width 1 with a class id), decides whether
// each is positive at threshold i as counting.rs does, and sums the weights of the four cases
// in f32; a fixed-order tree over the block gives the batch's sums, which thread 0 adds to the
// counts. (The host sums a bucketed batch through reverse cumulative sums and takes tn and fn
// as complements; the device sums each count directly: the same values to float rounding.)
//
//   rows, cols      the batch: rows x cols predictions and dense labels (row-major)
//   n_thresholds    thresholds; labels: label columns of the counts (1, or cols with multi)
//   thresholds      the thresholds (read on the plain path only)
//   bucketed        1: Keras's bucketed comparison for evenly spaced thresholds
//   with_epsilon    1: a bucket is at least 0 (AUC's grid, whose end points carry an epsilon)
//   class_id        the one column counted, or -1 for all
//   top_k           keep the k largest predictions of each row (the rest count as -1e10), or 0
//   multi_label     1: column l only, counted in label column l
//   from_logits     1: sigmoid of the prediction first
//   p, t, w, lw     predictions, labels, per-row weights or null, per-column weights or null
//   counts          tp, fp, tn, fn, n_thresholds x labels each (threshold-major)

#include <stddef.h>

#include "../block_sum4.cuh"

#define KERAS_CONFUSION_THREADS 256

// Rust's f32::total_cmp as an integer key: larger key, larger value (NaN above +inf, -0 < +0).
__device__ static int keras_total_key(const float x) {
    const int i = __float_as_int(x);
    return i ^ (int)(((unsigned int)(i >> 31)) >> 1);
}

__device__ static float keras_prob(const float x, const unsigned int from_logits) {
    return from_logits ? 1.0f / (1.0f + expf(-x)) : x;
}

// Whether column c of the row is among its k largest (counting.rs's top_k_mask: sorted by
// total_cmp, largest first, ties to the lower index).
__device__ static bool keras_in_top_k(const float *row, const size_t cols, const size_t c,
                                      const size_t k, const unsigned int from_logits) {
    const int key = keras_total_key(keras_prob(row[c], from_logits));
    size_t ahead = 0;
    for (size_t j = 0; j < cols; j++) {
        const int other = keras_total_key(keras_prob(row[j], from_logits));
        ahead += other > key || (other == key && j < c);
    }
    return ahead < k;
}

// The shape and options, by value (cuda_kernel.rs's ConfusionArgs, field for field).
struct ConfusionArgs {
    size_t rows;
    size_t cols;
    size_t n_thresholds;
    size_t labels;
    long long class_id;
    size_t top_k;
    unsigned int bucketed;
    unsigned int with_epsilon;
    unsigned int multi_label;
    unsigned int from_logits;
};

extern "C" __global__ void keras_confusion_update(const ConfusionArgs a, const float *thresholds,
                                                  const float *p, const float *t, const float *w,
                                                  const float *lw, float *counts) {
    const size_t rows = a.rows, cols = a.cols, n_thresholds = a.n_thresholds, labels = a.labels;
    const long long class_id = a.class_id;
    const unsigned int bucketed = a.bucketed, with_epsilon = a.with_epsilon;
    const unsigned int multi_label = a.multi_label, from_logits = a.from_logits;
    __shared__ float sums[4 * KERAS_CONFUSION_THREADS];
    const size_t i = blockIdx.x;
    const size_t l = blockIdx.y;
    const size_t width = class_id >= 0 ? 1 : cols;
    const size_t n = rows * width;
    const float scale = (float)n_thresholds - 1.0f;
    float tp = 0.0f, fp = 0.0f, tn = 0.0f, fn = 0.0f;
    for (size_t e = threadIdx.x; e < n; e += blockDim.x) {
        const size_t r = e / width;
        const size_t c = class_id >= 0 ? (size_t)class_id : e % width;
        const size_t col = class_id >= 0 ? 0 : c;
        if (multi_label && col != l) {
            continue;
        }
        float pred = keras_prob(p[r * cols + c], from_logits);
        if (a.top_k > 0 && !keras_in_top_k(p + r * cols, cols, c, a.top_k, from_logits)) {
            pred = -1e10f;
        }
        const bool label = t[r * cols + c] != 0.0f;
        // The host's weight: sample weight times label weight, either alone, or 1.
        float weight = 1.0f;
        if (w && lw && !multi_label) {
            weight = w[r] * lw[c];
        } else if (w) {
            weight = w[r];
        } else if (lw && !multi_label) {
            weight = lw[c];
        }
        bool positive;
        if (bucketed) {
            // Rust's clamp keeps a NaN; fmaxf would not.
            const float q = isnan(pred) ? pred : fminf(fmaxf(pred, 0.0f), 1.0f);
            float bucket = ceilf(q * scale) - 1.0f;
            if (with_epsilon) {
                bucket = fmaxf(bucket, 0.0f);
            }
            positive = bucket >= (float)i;
        } else {
            positive = pred > thresholds[i];
        }
        if (label) {
            if (positive) {
                tp += weight;
            } else {
                fn += weight;
            }
        } else if (positive) {
            fp += weight;
        } else {
            tn += weight;
        }
    }
    keras_block_sum4(sums, tp, fp, tn, fn);
    if (threadIdx.x == 0) {
        const size_t count = n_thresholds * labels;
        const size_t idx = i * labels + l;
        for (int k = 0; k < 4; k++) {
            counts[k * count + idx] += sums[k * blockDim.x];
        }
    }
}
