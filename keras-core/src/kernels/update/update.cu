// The optimizer updates of keras-rs's elementwise rules, one kernel per rule: the CUDA side of
// `UpdateRule::update` (see src/optimizers/<rule>.rs for the Keras-exact formulas, which these
// repeat operation for operation). Compiled to PTX by keras-core's build script with
// `--fmad=false`, so that no multiply-add is contracted and the results match the CPU kernels.
//
// Every kernel takes the same arguments:
//   n        the variable's element count
//   a        the step's scalars (`DeviceUpdate::scalars`) and the rule's flags
//   w        the variable's values, updated in place
//   g        its gradient, read then zeroed for the next step
//   s0..s2   its slots in the rule's `slot_names` order (null when the rule has fewer)
// Decoupled weight decay (`w -= w * weight_decay * learning_rate`, Keras's order) comes first
// when `a.decay` is set.

#include <stddef.h>

#define KERAS_MAX_SCALARS 10

struct UpdateArgs {
    float s[KERAS_MAX_SCALARS];
    unsigned int flags;
    unsigned int decay;
    float weight_decay;
    float decay_learning_rate;
};

#define MOMENTUM 1u
#define NESTEROV 2u
#define AMSGRAD 4u
#define CENTERED 8u

#define FOR_EACH_ELEMENT \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; \
         i += (size_t)blockDim.x * gridDim.x)

__device__ __forceinline__ float decayed(const UpdateArgs &a, float w) {
    return a.decay ? w - w * a.weight_decay * a.decay_learning_rate : w;
}

// s: lr, momentum. Slots: momentum.
extern "C" __global__ void keras_sgd_update(const size_t n, const UpdateArgs a, float *w,
                                            float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], mu = a.s[1];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
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
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: alpha, 1 - beta_1, 1 - beta_2, epsilon. Slots: momentum, velocity, velocity_hat.
extern "C" __global__ void keras_adam_update(const size_t n, const UpdateArgs a, float *w,
                                             float *g, float *s0, float *s1, float *s2) {
    const float alpha = a.s[0], b1 = a.s[1], b2 = a.s[2], eps = a.s[3];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
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
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: lr, 1 - beta_1, beta_2, 1 - beta_1^t, epsilon. Slots: momentum, norm.
extern "C" __global__ void keras_adamax_update(const size_t n, const UpdateArgs a, float *w,
                                               float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], omb1 = a.s[1], b2 = a.s[2], omb1p = a.s[3], eps = a.s[4];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
        const float m = s0[i] + (gi - s0[i]) * omb1;
        const float u = fmaxf(b2 * s1[i], fabsf(gi));
        s0[i] = m;
        s1[i] = u;
        wi -= lr * m / (omb1p * (u + eps));
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: lr, 1 - beta_1, 1 - beta_2, u_t, u_{t+1}, u_product_t, u_product_{t+1}, 1 - beta_2^t,
// epsilon. Slots: momentum, velocity.
extern "C" __global__ void keras_nadam_update(const size_t n, const UpdateArgs a, float *w,
                                              float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], omb1 = a.s[1], omb2 = a.s[2], u_t = a.s[3], u_t_1 = a.s[4],
                up_t = a.s[5], up_t_1 = a.s[6], omb2p = a.s[7], eps = a.s[8];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
        const float m = s0[i] + (gi - s0[i]) * omb1;
        const float v = s1[i] + (gi * gi - s1[i]) * omb2;
        s0[i] = m;
        s1[i] = v;
        const float m_hat = u_t_1 * m / (1.0f - up_t_1) + (1.0f - u_t) * gi / (1.0f - up_t);
        const float v_hat = v / omb2p;
        wi -= m_hat * lr / (sqrtf(v_hat) + eps);
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: lr, rho, 1 - rho, momentum, epsilon. Slots: velocity, then momentum and average_gradient
// (each only when used, in that order).
extern "C" __global__ void keras_rmsprop_update(const size_t n, const UpdateArgs a, float *w,
                                                float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], rho = a.s[1], omr = a.s[2], mu = a.s[3], eps = a.s[4];
    const bool has_momentum = (a.flags & MOMENTUM) != 0;
    const bool centered = (a.flags & CENTERED) != 0;
    float *momentum = has_momentum ? s1 : s2;
    float *average = has_momentum ? s2 : s1;
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
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
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: lr, epsilon. Slots: accumulator.
extern "C" __global__ void keras_adagrad_update(const size_t n, const UpdateArgs a, float *w,
                                                float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], eps = a.s[1];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
        const float acc = s0[i] + gi * gi;
        s0[i] = acc;
        wi -= lr * gi / sqrtf(acc + eps);
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: lr, rho, 1 - rho, epsilon. Slots: accumulated_grad, accumulated_delta_var.
extern "C" __global__ void keras_adadelta_update(const size_t n, const UpdateArgs a, float *w,
                                                 float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], rho = a.s[1], omr = a.s[2], eps = a.s[3];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
        const float ag = rho * s0[i] + omr * (gi * gi);
        s0[i] = ag;
        const float delta = -(sqrtf(s1[i] + eps) * gi / sqrtf(ag + eps));
        s1[i] = rho * s1[i] + omr * (delta * delta);
        wi += lr * delta;
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// `jnp.sign`: sign(0) = 0 and NaN stays NaN.
__device__ __forceinline__ float keras_sign(float x) {
    return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
}

// s: lr, beta_1, beta_2. Slots: momentum.
extern "C" __global__ void keras_lion_update(const size_t n, const UpdateArgs a, float *w,
                                             float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], b1 = a.s[1], b2 = a.s[2];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
        const float m = s0[i];
        const float direction = m * b1 + gi * (1.0f - b1);
        wi -= lr * keras_sign(direction);
        s0[i] = m * b2 + gi * (1.0f - b2);
        w[i] = wi;
        g[i] = 0.0f;
    }
}

// s: lr, -learning_rate_power, 2 * l2_reg, 2 * l2_shrinkage, l1. Slots: accumulator, linear.
extern "C" __global__ void keras_ftrl_update(const size_t n, const UpdateArgs a, float *w,
                                             float *g, float *s0, float *s1, float *s2) {
    const float lr = a.s[0], power = a.s[1], twice_l2_reg = a.s[2], twice_shrinkage = a.s[3],
                l1 = a.s[4];
    FOR_EACH_ELEMENT {
        float wi = decayed(a, w[i]);
        const float gi = g[i];
        const float accum = s0[i];
        const float grad_to_use = gi + twice_shrinkage * wi;
        const float new_n = accum + gi * gi;
        const float new_n_pow = powf(new_n, power);
        const float z = s1[i] + (grad_to_use - (new_n_pow - powf(accum, power)) / lr * wi);
        const float quadratic = new_n_pow / lr + twice_l2_reg;
        const float clipped = z < -l1 ? -l1 : (z > l1 ? l1 : z);
        s1[i] = z;
        s0[i] = new_n;
        w[i] = (clipped - z) / quadratic;
        g[i] = 0.0f;
    }
}
