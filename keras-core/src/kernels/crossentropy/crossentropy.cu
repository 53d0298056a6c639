// keras-rs: the softmax crossentropy of a batch of logits, reduced to the loss (Keras's
// categorical and sparse categorical crossentropy from logits, the labels as dense rows), the
// CUDA kernels beside cpu_kernel.rs. Forward, one block: thread j takes rows j, j + blockDim.x,
// ...; for each row, jax.nn.log_softmax's arithmetic (m = max, s = sum exp(x - m),
// log p = (x - m) - log s), the row's loss -sum(t log p), its log-sum-exp m + log s and label
// sum for the backward; then the weighted rows are added in a fixed-order tree and divided by
// the divisor (times 0 when it is 0, Keras's divide_no_nan). Backward, one thread per element:
// grad += upstream * w / divisor * (exp(x - lse) * sum(t) - t).
//
//   rows, k     the batch: rows x k logits and labels (row-major)
//   x, t, w     logits, labels, per-row weights or null
//   divisor     what the weighted sum is divided by (rows, the weights' sum, or 1)
//   stats       2 x rows floats: each row's log-sum-exp and label sum
//   loss        one float
//   upstream    the loss's gradient (one float)
//   grad        the logits' gradient, added to

#include <stddef.h>

#define KERAS_XENT_THREADS 256

extern "C" __global__ void keras_xent_forward(size_t rows, size_t k, const float *x,
                                              const float *t, const float *w, float divisor,
                                              float *stats, float *loss) {
    __shared__ float partial[KERAS_XENT_THREADS];
    float acc = 0.0f;
    for (size_t r = threadIdx.x; r < rows; r += blockDim.x) {
        const float *xr = x + r * k;
        const float *tr = t + r * k;
        float m = xr[0];
        for (size_t j = 1; j < k; j++) {
            m = xr[j] > m ? xr[j] : m;
        }
        float s = 0.0f;
        for (size_t j = 0; j < k; j++) {
            s += expf(xr[j] - m);
        }
        const float log_s = logf(s);
        float dot = 0.0f;
        float label_sum = 0.0f;
        for (size_t j = 0; j < k; j++) {
            dot += tr[j] * ((xr[j] - m) - log_s);
            label_sum += tr[j];
        }
        stats[2 * r] = m + log_s;
        stats[2 * r + 1] = label_sum;
        acc += w ? -dot * w[r] : -dot;
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned int half = KERAS_XENT_THREADS / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            partial[threadIdx.x] += partial[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        loss[0] = divisor == 0.0f ? partial[0] * 0.0f : partial[0] / divisor;
    }
}

extern "C" __global__ void keras_xent_backward(size_t rows, size_t k, const float *x,
                                               const float *t, const float *w, float divisor,
                                               const float *stats, const float *upstream,
                                               float *grad) {
    const float scale = divisor == 0.0f ? 0.0f : upstream[0] / divisor;
    const size_t n = rows * k;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t r = i / k;
        const float g = expf(x[i] - stats[2 * r]) * stats[2 * r + 1] - t[i];
        grad[i] += g * (w ? w[r] * scale : scale);
    }
}
