// keras-rs: Keras's element-wise activations, the CUDA kernels beside cpu_kernel.rs and math.rs,
// whose formulas they repeat operation for operation. form: 0 ELU (a = alpha), 1 LeakyReLU
// (a = negative_slope), 2 exact GELU, 3 swish, 4 softplus. The forward writes y = f(x); the
// backward adds f'(x) * g to the input's gradient. Built with --fmad=false and IEEE division:
// the CPU op's arithmetic, with CUDA's expf, expm1f, erff and log1pf (within a few ulp of the
// host's). One thread per value, grid-stride.

#include <stddef.h>

// 1 / sqrt(2 pi), as math.rs's FRAC_1_SQRT_2PI rounded from double.
#define KERAS_ACT_FRAC_1_SQRT_2PI ((float)0.3989422804014327)
// 1 / sqrt(2), as Rust's f32::consts::FRAC_1_SQRT_2.
#define KERAS_ACT_FRAC_1_SQRT_2 0.707106781186547524400844362104849039f

__device__ static float keras_act_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ static float keras_act_value(unsigned int form, float a, float x) {
    switch (form) {
    case 0:
        return x > 0.0f ? x : a * expm1f(x);
    case 1:
        return x >= 0.0f ? x : a * x;
    case 2:
        return 0.5f * x * (1.0f + erff(x * KERAS_ACT_FRAC_1_SQRT_2));
    case 3:
        return x * keras_act_sigmoid(x);
    default:
        return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    }
}

__device__ static float keras_act_derivative(unsigned int form, float a, float x) {
    switch (form) {
    case 0:
        return x > 0.0f ? 1.0f : a * expf(x);
    case 1:
        return x >= 0.0f ? 1.0f : a;
    case 2: {
        const float cdf = 0.5f * (1.0f + erff(x * KERAS_ACT_FRAC_1_SQRT_2));
        const float pdf = expf(-0.5f * x * x) * KERAS_ACT_FRAC_1_SQRT_2PI;
        return cdf + x * pdf;
    }
    case 3: {
        const float s = keras_act_sigmoid(x);
        return s + x * s * (1.0f - s);
    }
    default:
        return keras_act_sigmoid(x);
    }
}

extern "C" __global__ void keras_activation(size_t n, unsigned int form, float a, const float *x,
                                            float *y) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = keras_act_value(form, a, x[i]);
    }
}

extern "C" __global__ void keras_activation_grad(size_t n, unsigned int form, float a,
                                                 const float *x, const float *g, float *gx) {
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        gx[i] += keras_act_derivative(form, a, x[i]) * g[i];
    }
}
