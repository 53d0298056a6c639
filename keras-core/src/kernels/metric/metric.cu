// keras-rs: a mean metric's update on the device (Keras's MeanMetricWrapper), the CUDA kernel
// beside cpu_kernel.rs. One block: each thread takes rows r = threadIdx.x, + blockDim.x, ...,
// computes the row's value (the form's ROW_* code, as RowMetric::row on the host) and its
// weight, and sums both in f32; a fixed-order tree over the block then gives the batch's sums,
// which thread 0 adds to the running state[0] (total) and state[1] (count).
//
//   rows, cols   the batch: rows x cols predictions (row-major)
//   form         ROW_* below; param is BinaryAccuracy's threshold, a crossentropy's label
//                smoothing or a top-k accuracy's k
//   unit_weight  the weight of each row when w is null (1 for a metric, the batch size for the
//                loss tracker)
//   p, t, w      predictions, labels (one per row for the ROW_SPARSE_* forms), weights or null
//   state        [total, count]

#include <stddef.h>

#define ROW_VALUE 0u
#define ROW_SPARSE_ACCURACY 1u
#define ROW_CATEGORICAL_ACCURACY 2u
#define ROW_BINARY_ACCURACY 3u
#define ROW_ACCURACY 4u
#define ROW_MEAN_SQUARED_ERROR 5u
#define ROW_MEAN_ABSOLUTE_ERROR 6u
#define ROW_SPARSE_CE_LOGITS 7u
#define ROW_SPARSE_CE_PROBS 8u
#define ROW_CATEGORICAL_CE_LOGITS 9u
#define ROW_CATEGORICAL_CE_PROBS 10u
#define ROW_BINARY_CE_LOGITS 11u
#define ROW_BINARY_CE_PROBS 12u
#define ROW_SPARSE_TOP_K 13u
#define ROW_CATEGORICAL_TOP_K 14u
#define ROW_MEAN_ABSOLUTE_PERCENTAGE_ERROR 15u
#define ROW_MEAN_SQUARED_LOGARITHMIC_ERROR 16u
#define ROW_KL_DIVERGENCE 17u
#define ROW_POISSON 18u
#define ROW_COSINE_SIMILARITY 19u
#define ROW_LOG_COSH 20u
#define ROW_CATEGORICAL_HINGE 21u
#define ROW_HINGE 22u
#define ROW_PEARSON_CORRELATION 23u
#define ROW_CONCORDANCE_CORRELATION 24u
#define ROW_PREDICTION_MEAN 25u
#define ROW_PREDICTION_SUM 26u

// Keras's backend.epsilon(), the clip of probabilities.
#define KERAS_EPSILON 1e-7f

#define KERAS_MEAN_THREADS 256

// Index of the first maximum (ties to the lowest index; a NaN never wins a comparison).
__device__ static size_t keras_argmax(const float *row, const size_t cols) {
    size_t best = 0;
    for (size_t i = 1; i < cols; i++) {
        if (row[i] > row[best]) {
            best = i;
        }
    }
    return best;
}

// Keras's label smoothing t (1 - s) + s / classes, the factors rounded from double as Keras's
// Python floats (RowMetric's smooth_label).
__device__ static float keras_smooth(const float t, const float s, const double classes) {
    if (s == 0.0f) {
        return t;
    }
    const float keep = (float)(1.0 - (double)s);
    const float shift = (float)((double)s / classes);
    return t * keep + shift;
}

// jax.nn.softplus: max(x, 0) + ln(1 + exp(-|x|)).
__device__ static float keras_softplus(const float x) {
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

// Keras's binary crossentropy of one label and prediction (RowMetric's binary_crossentropy).
__device__ static float keras_bce(const float t, const float p, const bool from_logits) {
    if (from_logits) {
        // -t log_sigmoid(p) - (1 - t) log_sigmoid(-p), log_sigmoid(x) = -softplus(-x).
        return -t * -keras_softplus(-p) - (1.0f - t) * -keras_softplus(p);
    }
    const float q = fminf(fmaxf(p, KERAS_EPSILON), 1.0f - KERAS_EPSILON);
    return -(t * logf(q) + (1.0f - t) * logf(1.0f - q));
}

// jnp.mean of a row: the sum in order, then / cols.
__device__ static float keras_mean(const float *x, const size_t cols) {
    float sum = 0.0f;
    for (size_t i = 0; i < cols; i++) {
        sum += x[i];
    }
    return sum / (float)cols;
}

// jnp.var of the row centred on m (row_math's centred_variance): the centred row's mean, then
// the mean of the squared deviations from it, each value centred on the fly.
__device__ static float keras_centred_variance(const float *x, const size_t cols, const float m) {
    float sum = 0.0f;
    for (size_t i = 0; i < cols; i++) {
        sum += x[i] - m;
    }
    const float mc = sum / (float)cols;
    float sq = 0.0f;
    for (size_t i = 0; i < cols; i++) {
        const float d = (x[i] - m) - mc;
        sq += d * d;
    }
    return sq / (float)cols;
}

// min(1 / sqrt(sum x^2), 1 / eps) (row_math's inverse_norm).
__device__ static float keras_inverse_norm(const float *x, const size_t cols) {
    float sq = 0.0f;
    for (size_t i = 0; i < cols; i++) {
        sq += x[i] * x[i];
    }
    return fminf(1.0f / sqrtf(sq), 1.0f / KERAS_EPSILON);
}

// `mapped`: the batch's hinge labels are 0/1 and taken as 2t - 1 (RowMetric::row_in).
__device__ static float keras_row(const unsigned int form, const float threshold,
                                  const bool mapped, const float *p, const float *t,
                                  const size_t cols) {
    switch (form) {
    case ROW_VALUE:
        return p[0];
    case ROW_SPARSE_ACCURACY:
        return (float)keras_argmax(p, cols) == t[0] ? 1.0f : 0.0f;
    case ROW_CATEGORICAL_ACCURACY:
        return keras_argmax(t, cols) == keras_argmax(p, cols) ? 1.0f : 0.0f;
    case ROW_BINARY_ACCURACY: {
        size_t hits = 0;
        for (size_t i = 0; i < cols; i++) {
            hits += t[i] == (p[i] > threshold ? 1.0f : 0.0f);
        }
        return (float)hits / (float)cols;
    }
    case ROW_ACCURACY: {
        size_t hits = 0;
        for (size_t i = 0; i < cols; i++) {
            hits += t[i] == p[i];
        }
        return (float)hits / (float)cols;
    }
    case ROW_MEAN_SQUARED_ERROR: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float d = t[i] - p[i];
            sum += d * d;
        }
        return sum / (float)cols;
    }
    case ROW_MEAN_ABSOLUTE_ERROR: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += fabsf(t[i] - p[i]);
        }
        return sum / (float)cols;
    }
    case ROW_SPARSE_CE_LOGITS: {
        // -log_softmax(p)[label]: (p[label] - max) - ln(sum(exp(p - max))), the sum in order.
        const size_t label = (size_t)t[0];
        float max = -INFINITY;
        for (size_t i = 0; i < cols; i++) {
            max = fmaxf(max, p[i]);
        }
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += expf(p[i] - max);
        }
        return -((p[label] - max) - logf(sum));
    }
    case ROW_SPARSE_CE_PROBS: {
        // -ln(clip(p[label] / sum(p), eps, 1 - eps)).
        const size_t label = (size_t)t[0];
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += p[i];
        }
        const float q = fminf(fmaxf(p[label] / sum, KERAS_EPSILON), 1.0f - KERAS_EPSILON);
        return -logf(q);
    }
    case ROW_CATEGORICAL_CE_LOGITS: {
        // -sum(smooth(t) * ((p - max) - lse)), every sum in order.
        float max = -INFINITY;
        for (size_t i = 0; i < cols; i++) {
            max = fmaxf(max, p[i]);
        }
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += expf(p[i] - max);
        }
        const float lse = logf(sum);
        float dot = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            dot += keras_smooth(t[i], threshold, (double)cols) * ((p[i] - max) - lse);
        }
        return -dot;
    }
    case ROW_CATEGORICAL_CE_PROBS: {
        // -sum(smooth(t) * ln(clip(p / sum(p), eps, 1 - eps))).
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += p[i];
        }
        float dot = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float q = fminf(fmaxf(p[i] / sum, KERAS_EPSILON), 1.0f - KERAS_EPSILON);
            dot += keras_smooth(t[i], threshold, (double)cols) * logf(q);
        }
        return -dot;
    }
    case ROW_BINARY_CE_LOGITS:
    case ROW_BINARY_CE_PROBS: {
        const bool from_logits = form == ROW_BINARY_CE_LOGITS;
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += keras_bce(keras_smooth(t[i], threshold, 2.0), p[i], from_logits);
        }
        return sum / (float)cols;
    }
    case ROW_SPARSE_TOP_K:
    case ROW_CATEGORICAL_TOP_K: {
        // ops.in_top_k: fewer than k entries strictly larger than the target's (NaN: -inf).
        const size_t target =
            form == ROW_SPARSE_TOP_K ? (size_t)t[0] : keras_argmax(t, cols);
        float at = p[target];
        if (isnan(at)) {
            at = -INFINITY;
        }
        size_t larger = 0;
        for (size_t i = 0; i < cols; i++) {
            larger += p[i] > at;
        }
        return larger < (size_t)threshold ? 1.0f : 0.0f;
    }
    case ROW_MEAN_ABSOLUTE_PERCENTAGE_ERROR: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += fabsf((t[i] - p[i]) / fmaxf(fabsf(t[i]), KERAS_EPSILON));
        }
        return 100.0f * (sum / (float)cols);
    }
    case ROW_MEAN_SQUARED_LOGARITHMIC_ERROR: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float d =
                logf(fmaxf(p[i], KERAS_EPSILON) + 1.0f) - logf(fmaxf(t[i], KERAS_EPSILON) + 1.0f);
            sum += d * d;
        }
        return sum / (float)cols;
    }
    case ROW_KL_DIVERGENCE: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float tc = fminf(fmaxf(t[i], KERAS_EPSILON), 1.0f);
            const float pc = fminf(fmaxf(p[i], KERAS_EPSILON), 1.0f);
            sum += tc * logf(tc / pc);
        }
        return sum;
    }
    case ROW_POISSON: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += p[i] - t[i] * logf(p[i] + KERAS_EPSILON);
        }
        return sum / (float)cols;
    }
    case ROW_COSINE_SIMILARITY: {
        const float it = keras_inverse_norm(t, cols);
        const float ip = keras_inverse_norm(p, cols);
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += (t[i] * it) * (p[i] * ip);
        }
        return sum;
    }
    case ROW_LOG_COSH: {
        // x + softplus(-2x) - ln 2, x = p - t (ln 2 rounded to f32, as Rust's LN_2).
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float x = p[i] - t[i];
            sum += x + keras_softplus(x * -2.0f) - 0.69314718055994530942f;
        }
        return sum / (float)cols;
    }
    case ROW_CATEGORICAL_HINGE: {
        float pos = 0.0f;
        float neg = -INFINITY;
        for (size_t i = 0; i < cols; i++) {
            pos += t[i] * p[i];
            neg = fmaxf(neg, (1.0f - t[i]) * p[i]);
        }
        return fmaxf(neg - pos + 1.0f, 0.0f);
    }
    case ROW_HINGE: {
        // threshold: 1 for SquaredHinge.
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float label = mapped ? 2.0f * t[i] - 1.0f : t[i];
            const float margin = fmaxf(1.0f - label * p[i], 0.0f);
            sum += threshold != 0.0f ? margin * margin : margin;
        }
        return sum / (float)cols;
    }
    case ROW_PEARSON_CORRELATION: {
        const float mt = keras_mean(t, cols);
        const float mp = keras_mean(p, cols);
        const float dt = sqrtf(keras_centred_variance(t, cols, mt)) + KERAS_EPSILON;
        const float dp = sqrtf(keras_centred_variance(p, cols, mp)) + KERAS_EPSILON;
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += ((t[i] - mt) / dt) * ((p[i] - mp) / dp);
        }
        return sum / (float)cols;
    }
    case ROW_CONCORDANCE_CORRELATION: {
        const float mt = keras_mean(t, cols);
        const float mp = keras_mean(p, cols);
        const float norm = keras_centred_variance(t, cols, mt) +
                           keras_centred_variance(p, cols, mp) + (mt - mp) * (mt - mp);
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += 2.0f * ((t[i] - mp) * (p[i] - mp)) / (norm + KERAS_EPSILON);
        }
        return sum / (float)cols;
    }
    case ROW_PREDICTION_MEAN:
        return keras_mean(p, cols);
    case ROW_PREDICTION_SUM: {
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            sum += p[i];
        }
        return sum;
    }
    default:
        return __int_as_float(0x7fc00000);
    }
}

extern "C" __global__ void keras_mean_update(const size_t rows, const size_t cols,
                                             const unsigned int form, const float threshold,
                                             const float unit_weight, const float *p,
                                             const float *t, const float *w, float *state) {
    __shared__ float totals[KERAS_MEAN_THREADS];
    __shared__ float counts[KERAS_MEAN_THREADS];
    const size_t label_width =
        (form == ROW_SPARSE_ACCURACY || form == ROW_SPARSE_CE_LOGITS ||
         form == ROW_SPARSE_CE_PROBS || form == ROW_SPARSE_TOP_K)
            ? 1
            : cols;
    // The hinge forms' whole-batch decision: every label 0 or 1 (RowMetric::maps_binary_labels).
    bool binary = true;
    if (form == ROW_HINGE) {
        for (size_t i = threadIdx.x; i < rows * cols; i += blockDim.x) {
            binary = binary && (t[i] == 0.0f || t[i] == 1.0f);
        }
    }
    const bool all_binary = __syncthreads_and(binary) != 0;
    const bool mapped = form == ROW_HINGE && all_binary;
    float total = 0.0f;
    float count = 0.0f;
    for (size_t r = threadIdx.x; r < rows; r += blockDim.x) {
        const float v =
            keras_row(form, threshold, mapped, p + r * cols, t + r * label_width, cols);
        const float weight = w ? w[r] : unit_weight;
        total += v * weight;
        count += weight;
    }
    totals[threadIdx.x] = total;
    counts[threadIdx.x] = count;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            totals[threadIdx.x] += totals[threadIdx.x + s];
            counts[threadIdx.x] += counts[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        state[0] += totals[0];
        state[1] += counts[0];
    }
}
