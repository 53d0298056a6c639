// The optimizer updates of keras-rs's elementwise rules, one kernel per rule: the CUDA side of
// `UpdateRule::update` (see src/optimizers/<rule>.rs for the Keras-exact formulas, which these
// repeat operation for operation), inside the base optimizer's elementwise stages (`Stages` in
// mod.rs; the CPU kernel in cpu_kernel.rs runs them in the same order). Compiled to PTX by
// keras-core's build script with `--fmad=false`, so that no multiply-add is contracted.
//
// Every kernel takes the same arguments (KERAS_UPDATE_PARAMS):
//   n        the variable's element count
//   a        the step's scalars (`DeviceUpdate::scalars`), the rule's flags and the stages
//   w        the variable's values, updated in place
//   g        its gradient, read then zeroed for the next step
//   s0..s2   its slots in the rule's `slot_names` order (null when the rule has fewer)
//   acc      its gradient accumulator (null without accumulation)
//   ema      its moving average (null without EMA)
//   norm_sum the sum of squares of its gradient (`clipnorm`) or of all gradients
//            (`global_clipnorm`), from keras_sum_squares; null without a norm clip
// Per element, in Keras's order: the loss scale's undo, accumulation (a call that only
// accumulates stops there), `clipvalue`, decoupled weight decay (keras_prepare), the rule's
// update, the moving average and its overwrite (keras_finish).

#include <stddef.h>

#define KERAS_MAX_SCALARS 10

struct UpdateArgs {
    float s[KERAS_MAX_SCALARS];
    unsigned int flags;
    unsigned int stages;
    float weight_decay;
    float decay_learning_rate;
    float accumulation_steps;
    float clip_value;
    float ema_momentum;
    float ema_rest;
    float clip_norm;
    float inv_clip_norm;
    float loss_scale;
};

// The rule's flags (`DeviceUpdate`).
#define MOMENTUM 1u
#define NESTEROV 2u
#define AMSGRAD 4u
#define CENTERED 8u

// The stages (`Stages`), as cuda_kernel.rs sets them.
#define STAGE_DECAY 1u
#define STAGE_ACCUMULATE 2u
#define STAGE_UPDATE_STEP 4u
#define STAGE_CLIP_VALUE 8u
#define STAGE_EMA 16u
#define STAGE_EMA_OVERWRITE 32u
#define STAGE_CLIP_NORM 64u
#define STAGE_CLIP_GLOBAL_NORM 128u
#define STAGE_UNSCALE 256u

#define KERAS_UPDATE_PARAMS                                                                   \
    const size_t n, const UpdateArgs a, float *w, float *g, float *s0, float *s1, float *s2, \
        float *acc, float *ema, const double *norm_sum

#define FOR_EACH_ELEMENT \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; \
         i += (size_t)blockDim.x * gridDim.x)

// What a norm clip multiplies (and divides) the gradient by, from the sum of squares, in the
// host optimizer's arithmetic (`NormClip::scale`).
struct GradScale {
    float mul;
    float div;
    bool divides;
};

__device__ __forceinline__ GradScale keras_grad_scale(const UpdateArgs &a,
                                                      const double *norm_sum) {
    GradScale s = {1.0f, 1.0f, false};
    if (a.stages & STAGE_CLIP_NORM) {
        const float l2sum = (float)*norm_sum;
        const float l2norm = l2sum > 0.0f ? sqrtf(l2sum) : l2sum;
        s.mul = a.clip_norm;
        s.div = fmaxf(l2norm, a.clip_norm);
        s.divides = true;
    } else if (a.stages & STAGE_CLIP_GLOBAL_NORM) {
        const float norm = sqrtf((float)*norm_sum);
        s.mul = isfinite(norm) ? a.clip_norm * fminf(1.0f / norm, a.inv_clip_norm) : NAN;
    }
    return s;
}

// The loss scale's undo and accumulation, then (on update steps) the norm clip's scale or `clipvalue` on the gradient and
// weight decay on the value. Returns whether the rule updates the variable on this call.
__device__ __forceinline__ bool keras_prepare(const UpdateArgs &a, const GradScale &scale,
                                              size_t i, float *acc, float &gi, float &wi) {
    if (a.stages & STAGE_UNSCALE) {
        gi = gi / a.loss_scale;
    }
    if (a.stages & STAGE_ACCUMULATE) {
        if (!(a.stages & STAGE_UPDATE_STEP)) {
            acc[i] = acc[i] + gi;
            return false;
        }
        gi = (gi + acc[i]) / a.accumulation_steps;
        acc[i] = 0.0f;
    }
    if (a.stages & (STAGE_CLIP_NORM | STAGE_CLIP_GLOBAL_NORM)) {
        gi = scale.divides ? gi * scale.mul / scale.div : gi * scale.mul;
    }
    if (a.stages & STAGE_CLIP_VALUE) {
        const float c = a.clip_value;
        gi = gi < -c ? -c : (gi > c ? c : gi);
    }
    if (a.stages & STAGE_DECAY) {
        wi -= wi * a.weight_decay * a.decay_learning_rate;
    }
    return true;
}

// The moving average (and its overwrite), then the value written and the gradient zeroed.
__device__ __forceinline__ void keras_finish(const UpdateArgs &a, size_t i, float *w, float *g,
                                             float *ema, float wi) {
    if (a.stages & STAGE_EMA) {
        const float avg = a.ema_momentum * ema[i] + a.ema_rest * wi;
        ema[i] = avg;
        if (a.stages & STAGE_EMA_OVERWRITE) {
            wi = avg;
        }
    }
    w[i] = wi;
    g[i] = 0.0f;
}

// s: lr, momentum. Slots: momentum.
extern "C" __global__ void keras_sgd_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], mu = a.s[1];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            if (!(a.flags & MOMENTUM)) {
                wi -= gi * lr;
            } else {
                const float m = s0[i] * mu - gi * lr;
                s0[i] = m;
                if (a.flags & NESTEROV) {
                    wi += m * mu - gi * lr;
                } else {
                    wi += m;
                }
            }
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: alpha, 1 - beta_1, 1 - beta_2, epsilon. Slots: momentum, velocity, velocity_hat.
extern "C" __global__ void keras_adam_update(KERAS_UPDATE_PARAMS) {
    const float alpha = a.s[0], b1 = a.s[1], b2 = a.s[2], eps = a.s[3];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float m = s0[i] + (gi - s0[i]) * b1;
            const float v = s1[i] + (gi * gi - s1[i]) * b2;
            s0[i] = m;
            s1[i] = v;
            if (a.flags & AMSGRAD) {
                const float v_hat = fmaxf(s2[i], v);
                s2[i] = v_hat;
                wi -= m * alpha / (sqrtf(v_hat) + eps);
            } else {
                wi -= m * alpha / (sqrtf(v) + eps);
            }
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: lr, 1 - beta_1, beta_2, 1 - beta_1^t, epsilon. Slots: momentum, norm.
extern "C" __global__ void keras_adamax_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], omb1 = a.s[1], b2 = a.s[2], omb1p = a.s[3], eps = a.s[4];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float m = s0[i] + (gi - s0[i]) * omb1;
            const float u = fmaxf(b2 * s1[i], fabsf(gi));
            s0[i] = m;
            s1[i] = u;
            wi -= lr * m / (omb1p * (u + eps));
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: lr, 1 - beta_1, 1 - beta_2, u_t, u_{t+1}, u_product_t, u_product_{t+1}, 1 - beta_2^t,
// epsilon. Slots: momentum, velocity.
extern "C" __global__ void keras_nadam_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], omb1 = a.s[1], omb2 = a.s[2], u_t = a.s[3], u_t_1 = a.s[4],
                up_t = a.s[5], up_t_1 = a.s[6], omb2p = a.s[7], eps = a.s[8];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float m = s0[i] + (gi - s0[i]) * omb1;
            const float v = s1[i] + (gi * gi - s1[i]) * omb2;
            s0[i] = m;
            s1[i] = v;
            const float m_hat = u_t_1 * m / (1.0f - up_t_1) + (1.0f - u_t) * gi / (1.0f - up_t);
            const float v_hat = v / omb2p;
            wi -= m_hat * lr / (sqrtf(v_hat) + eps);
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: lr, rho, 1 - rho, momentum, epsilon. Slots: velocity, then momentum and average_gradient
// (each only when used, in that order).
extern "C" __global__ void keras_rmsprop_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], rho = a.s[1], omr = a.s[2], mu = a.s[3], eps = a.s[4];
    const bool has_momentum = (a.flags & MOMENTUM) != 0;
    const bool centered = (a.flags & CENTERED) != 0;
    float *momentum = has_momentum ? s1 : s2;
    float *average = has_momentum ? s2 : s1;
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float v = rho * s0[i] + omr * (gi * gi);
            s0[i] = v;
            float denominator;
            if (centered) {
                const float avg = rho * average[i] + omr * gi;
                average[i] = avg;
                denominator = v - avg * avg + eps;
            } else {
                denominator = v + eps;
            }
            const float increment = lr * gi / sqrtf(denominator);
            if (has_momentum) {
                const float m = mu * momentum[i] + increment;
                momentum[i] = m;
                wi -= m;
            } else {
                wi -= increment;
            }
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: lr, epsilon. Slots: accumulator.
extern "C" __global__ void keras_adagrad_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], eps = a.s[1];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float acc = s0[i] + gi * gi;
            s0[i] = acc;
            wi -= lr * gi / sqrtf(acc + eps);
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: lr, rho, 1 - rho, epsilon. Slots: accumulated_grad, accumulated_delta_var.
extern "C" __global__ void keras_adadelta_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], rho = a.s[1], omr = a.s[2], eps = a.s[3];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float ag = rho * s0[i] + omr * (gi * gi);
            s0[i] = ag;
            const float delta = -(sqrtf(s1[i] + eps) * gi / sqrtf(ag + eps));
            s1[i] = rho * s1[i] + omr * (delta * delta);
            wi += lr * delta;
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// `jnp.sign`: sign(0) = 0 and NaN stays NaN.
__device__ __forceinline__ float keras_sign(float x) {
    return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
}

// s: lr, beta_1, beta_2. Slots: momentum.
extern "C" __global__ void keras_lion_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], b1 = a.s[1], b2 = a.s[2];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float m = s0[i];
            const float direction = m * b1 + gi * (1.0f - b1);
            wi -= lr * keras_sign(direction);
            s0[i] = m * b2 + gi * (1.0f - b2);
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// s: lr, -learning_rate_power, 2 * l2_reg, 2 * l2_shrinkage, l1. Slots: accumulator, linear.
extern "C" __global__ void keras_ftrl_update(KERAS_UPDATE_PARAMS) {
    const float lr = a.s[0], power = a.s[1], twice_l2_reg = a.s[2], twice_shrinkage = a.s[3],
                l1 = a.s[4];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            const float accum = s0[i];
            const float grad_to_use = gi + twice_shrinkage * wi;
            const float new_n = accum + gi * gi;
            const float new_n_pow = powf(new_n, power);
            const float z = s1[i] + (grad_to_use - (new_n_pow - powf(accum, power)) / lr * wi);
            const float quadratic = new_n_pow / lr + twice_l2_reg;
            const float clipped = z < -l1 ? -l1 : (z > l1 ? l1 : z);
            s1[i] = z;
            s0[i] = new_n;
            wi = (clipped - z) / quadratic;
        }
        keras_finish(a, i, w, g, ema, wi);
    }
}

// Adds the sum of the squares of `g`'s `n` elements, in double, to `*sum`: one block of 1024
// threads (a power of two), each summing a strided share, then a tree in shared memory; the order
// is fixed, so the result is the same from run to run.
extern "C" __global__ void keras_sum_squares(const size_t n, const float *g, double *sum) {
    __shared__ double partial[1024];
    double acc = 0.0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double v = (double)g[i];
        acc += v * v;
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            partial[threadIdx.x] += partial[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        *sum += partial[0];
    }
}

// A loss scale's undo ahead of a norm clip: g = g / factor.
extern "C" __global__ void keras_unscale(const size_t n, const float factor, float *g) {
    FOR_EACH_ELEMENT {
        g[i] = g[i] / factor;
    }
}

// An update step's accumulation ahead of a norm clip: g = (g + acc) / steps, acc = 0.
extern "C" __global__ void keras_accumulate(const size_t n, const float steps, float *g,
                                            float *acc) {
    FOR_EACH_ELEMENT {
        g[i] = (g[i] + acc[i]) / steps;
        acc[i] = 0.0f;
    }
}

// ---- Rules in a few passes: Lamb and Adafactor ----------------------------------------------
//
// Their updates need the whole variable (norms, row and column means), so each takes a few
// launches on the stream, every one with the same arguments (KERAS_PASS_PARAMS): those of
// KERAS_UPDATE_PARAMS, then
//   scratch  a few floats of device memory one pass writes and a later one reads (Lamb: the
//            ratio times the learning rate; Adafactor: the step size, the clip's divisor, then
//            each matrix's mean row factor)
//   d        Adafactor's factoring of the variable (batches of rows x cols matrices over the
//            last two axes); rows = 0 for a variable of rank < 2, which keeps a full slot
// An elementwise pass runs over the grid; a reduction runs in one block of 1024 threads, in a
// fixed order (the same bits from run to run; the host sums in order, so the last bits of a sum
// may differ from the host's).

struct FactorDims {
    size_t batches;
    size_t rows;
    size_t cols;
};

#define KERAS_PASS_PARAMS KERAS_UPDATE_PARAMS, float *scratch, const FactorDims d

// The sum of every thread's `x` over the block (1024 threads), by a tree in shared memory.
__device__ double keras_block_sum(double x) {
    __shared__ double partial[1024];
    partial[threadIdx.x] = x;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            partial[threadIdx.x] += partial[threadIdx.x + s];
        }
        __syncthreads();
    }
    const double sum = partial[0];
    __syncthreads();
    return sum;
}

// The moving average (and its overwrite) of a value the last pass computed.
__device__ __forceinline__ float keras_ema(const UpdateArgs &a, size_t i, float *ema, float wi) {
    if (a.stages & STAGE_EMA) {
        const float avg = a.ema_momentum * ema[i] + a.ema_rest * wi;
        ema[i] = avg;
        if (a.stages & STAGE_EMA_OVERWRITE) {
            wi = avg;
        }
    }
    return wi;
}

// Lamb's direction `m_hat / (sqrt(v_hat) + epsilon)` (`LambStep::direction`).
// s: lr, 1 - beta_1, 1 - beta_2, 1 - beta_1^t, 1 - beta_2^t, epsilon. Slots: momentum, velocity.
__device__ __forceinline__ float keras_lamb_direction(const UpdateArgs &a, float m, float v) {
    const float m_hat = m / a.s[3];
    const float v_sqrt = sqrtf(v / a.s[4]) + a.s[5];
    return m_hat / v_sqrt;
}

// Lamb, pass 1 (grid): the stages on the gradient and the value (written back), the moments;
// the gradient zeroed.
extern "C" __global__ void keras_lamb_moments(KERAS_PASS_PARAMS) {
    const float omb1 = a.s[1], omb2 = a.s[2];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi)) {
            s0[i] = s0[i] + (gi - s0[i]) * omb1;
            s1[i] = s1[i] + (gi * gi - s1[i]) * omb2;
        }
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// Lamb, pass 2 (one block): the norms of the value and of the direction, and
// scratch[0] = trust ratio * lr (a ratio of 1 when either norm is 0).
extern "C" __global__ void keras_lamb_ratio(KERAS_PASS_PARAMS) {
    double w_sq = 0.0, r_sq = 0.0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double wi = (double)w[i];
        const double r = (double)keras_lamb_direction(a, s0[i], s1[i]);
        w_sq += wi * wi;
        r_sq += r * r;
    }
    w_sq = keras_block_sum(w_sq);
    r_sq = keras_block_sum(r_sq);
    if (threadIdx.x == 0) {
        const float w_norm = sqrtf((float)w_sq);
        const float g_norm = sqrtf((float)r_sq);
        const float ratio = (w_norm > 0.0f && g_norm > 0.0f) ? w_norm / g_norm : 1.0f;
        scratch[0] = ratio * a.s[0];
    }
}

// Lamb, pass 3 (grid): the update by the ratio of pass 2, then the moving average.
extern "C" __global__ void keras_lamb_apply(KERAS_PASS_PARAMS) {
    const float scale = scratch[0];
    FOR_EACH_ELEMENT {
        float wi = w[i];
        wi -= scale * keras_lamb_direction(a, s0[i], s1[i]);
        w[i] = keras_ema(a, i, ema, wi);
    }
}

// Adafactor's regularised squared gradient.
// s: rho_t, beta_2_t, epsilon_1, epsilon_2, clip_threshold. Slots: r, c (factored only),
// velocity.
__device__ __forceinline__ float keras_adafactor_reg(const UpdateArgs &a, float gi) {
    return gi * gi + a.s[2];
}

// Adafactor, pass 1 (grid): the stages on the gradient (kept, prepared, for the later passes)
// and on the value (written back); for a variable of rank < 2, its full second moment.
extern "C" __global__ void keras_adafactor_prepare(KERAS_PASS_PARAMS) {
    const float b2 = a.s[1], rest = 1.0f - a.s[1];
    const GradScale scale = keras_grad_scale(a, norm_sum);
    FOR_EACH_ELEMENT {
        float gi = g[i], wi = w[i];
        if (keras_prepare(a, scale, i, acc, gi, wi) && d.rows == 0) {
            s2[i] = b2 * s2[i] + rest * keras_adafactor_reg(a, gi);
        }
        g[i] = gi;
        w[i] = wi;
    }
}

// Adafactor, pass 2 (factored; a thread per row, then per column, of every matrix): the row
// factor (mean over the columns) and the column factor (mean over the rows), each summed in
// order in double as on the host.
extern "C" __global__ void keras_adafactor_factors(KERAS_PASS_PARAMS) {
    const float b2 = a.s[1], rest = 1.0f - a.s[1];
    const size_t rows = d.rows, cols = d.cols, n_rows = d.batches * rows;
    const size_t count = n_rows + d.batches * cols;
    for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < count;
         k += (size_t)blockDim.x * gridDim.x) {
        if (k < n_rows) {
            const float *row = g + k * cols;
            double sum = 0.0;
            for (size_t j = 0; j < cols; ++j) {
                sum += (double)keras_adafactor_reg(a, row[j]);
            }
            s0[k] = b2 * s0[k] + rest * (float)(sum / (double)cols);
        } else {
            const size_t kc = k - n_rows, b = kc / cols, j = kc % cols;
            const float *matrix = g + b * rows * cols;
            double sum = 0.0;
            for (size_t i = 0; i < rows; ++i) {
                sum += (double)keras_adafactor_reg(a, matrix[i * cols + j]);
            }
            s1[kc] = b2 * s1[kc] + rest * (float)(sum / (double)rows);
        }
    }
}

// Adafactor, pass 3 (factored; a thread per matrix): scratch[2 + b] = the mean of matrix b's row
// factors.
extern "C" __global__ void keras_adafactor_row_means(KERAS_PASS_PARAMS) {
    for (size_t b = blockIdx.x * (size_t)blockDim.x + threadIdx.x; b < d.batches;
         b += (size_t)blockDim.x * gridDim.x) {
        double sum = 0.0;
        for (size_t i = 0; i < d.rows; ++i) {
            sum += (double)s0[b * d.rows + i];
        }
        scratch[2 + b] = (float)(sum / (double)d.rows);
    }
}

// Adafactor, pass 4 (factored; grid): the second moment `r_i / mean(r) * c_j`.
extern "C" __global__ void keras_adafactor_velocity(KERAS_PASS_PARAMS) {
    const size_t rows = d.rows, cols = d.cols;
    FOR_EACH_ELEMENT {
        const size_t b = i / (rows * cols), ij = i % (rows * cols);
        const size_t row = b * rows + ij / cols, col = b * cols + ij % cols;
        s2[i] = s0[row] / scratch[2 + b] * s1[col];
    }
}

// Adafactor, pass 5 (one block): scratch[0] = the step size `max(epsilon_2, rms(w)) * rho_t`,
// scratch[1] = the clip's divisor `max(1, rms(g / sqrt(v)) / clip_threshold)`.
extern "C" __global__ void keras_adafactor_scales(KERAS_PASS_PARAMS) {
    double w_sq = 0.0, u_sq = 0.0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double wi = (double)w[i];
        const double u = (double)(g[i] / sqrtf(s2[i]));
        w_sq += wi * wi;
        u_sq += u * u;
    }
    w_sq = keras_block_sum(w_sq);
    u_sq = keras_block_sum(u_sq);
    if (threadIdx.x == 0) {
        const float rms_w = sqrtf((float)(w_sq / (double)n));
        const float rms_u = sqrtf((float)(u_sq / (double)n));
        scratch[0] = fmaxf(a.s[3], rms_w) * a.s[0];
        scratch[1] = fmaxf(1.0f, rms_u / a.s[4]);
    }
}

// Adafactor, pass 6 (grid): the update, the moving average; the gradient zeroed.
extern "C" __global__ void keras_adafactor_apply(KERAS_PASS_PARAMS) {
    const float alpha = scratch[0], denom = scratch[1];
    FOR_EACH_ELEMENT {
        float wi = w[i];
        wi -= alpha * (g[i] / sqrtf(s2[i]) / denom);
        w[i] = keras_ema(a, i, ema, wi);
        g[i] = 0.0f;
    }
}
