// keras-rs: the window steps of Conv2D's and MaxPooling2D's fused ops on Cuda (f32), the CUDA
// kernels beside cpu_kernel.rs. Images are channels-last (images x h x w x c, row-major). The
// convolution is
//   forward:  keras_conv_im2col (the windows, one row per output pixel), then Dense's fused
//             product on them (cuBLAS, dense.cu's bias and ReLU)
//   backward: keras_conv_im2col again (the windows are not kept), Dense's backward on them
//             (ReLU mask, bias, kernel and window gradients), then keras_conv_col2im (each input
//             pixel sums the gradients of the window entries that read it)
// max pooling keras_max_pool forward, keras_max_pool_grad backward, and average pooling
// keras_avg_pool forward, keras_avg_pool_grad backward. Every output element
// is written by one thread that reads its inputs in a fixed order: no atomics, and the result
// does not depend on the schedule.

#include <stddef.h>

// The geometry of a K x K window op (stride s, zero padding p on every side) over `images`
// h x w x c images, giving oh x ow outputs per image (window_geometry.rs's WindowArgs).
struct WindowArgs {
    size_t images;
    size_t h;
    size_t w;
    size_t c;
    size_t k;
    size_t s;
    size_t p;
    size_t oh;
    size_t ow;
};

// cols[row, (ky, kx, ch)] = x[image, oy * s + ky - p, ox * s + kx - p, ch], 0 in the padding;
// row = (image * oh + oy) * ow + ox, each row k * k * c values (a Keras kernel's row order).
// One thread per value, grid-stride.
extern "C" __global__ void keras_conv_im2col(const WindowArgs a, const float *x, float *cols) {
    const size_t window = a.k * a.k * a.c;
    const size_t n = a.images * a.oh * a.ow * window;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t row = i / window;
        const size_t col = i % window;
        const size_t ch = col % a.c;
        const size_t kx = (col / a.c) % a.k;
        const size_t ky = col / (a.c * a.k);
        const size_t ox = row % a.ow;
        const size_t oy = (row / a.ow) % a.oh;
        const size_t image = row / (a.ow * a.oh);
        // Padded coordinates: the input pixel is (py - p, px - p) when inside.
        const size_t py = oy * a.s + ky;
        const size_t px = ox * a.s + kx;
        float v = 0.0f;
        if (py >= a.p && py - a.p < a.h && px >= a.p && px - a.p < a.w) {
            v = x[((image * a.h + (py - a.p)) * a.w + (px - a.p)) * a.c + ch];
        }
        cols[i] = v;
    }
}

// The output pixels along one axis whose windows cover padded coordinate `q` (an input
// coordinate plus p): o with o * s <= q < o * s + k and o < outs, as [*first, *last]; empty
// when *first > *last.
__device__ static void keras_covering(size_t q, size_t k, size_t s, size_t outs, size_t *first,
                                      size_t *last) {
    *first = q + 1 > k ? (q + 1 - k + s - 1) / s : 0;
    const size_t by_stride = q / s;
    *last = by_stride < outs - 1 ? by_stride : outs - 1;
}

// grad_x[image, iy, ix, ch] += the gradients of every window entry that read it (the rows of
// grad_cols laid out as keras_conv_im2col's), added in the order of the output pixels (oy,
// then ox). One thread per input value, grid-stride.
extern "C" __global__ void keras_conv_col2im(const WindowArgs a, const float *grad_cols,
                                             float *grad_x) {
    const size_t window = a.k * a.k * a.c;
    const size_t n = a.images * a.h * a.w * a.c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t ch = i % a.c;
        const size_t ix = (i / a.c) % a.w;
        const size_t iy = (i / (a.c * a.w)) % a.h;
        const size_t image = i / (a.c * a.w * a.h);
        const size_t py = iy + a.p;
        const size_t px = ix + a.p;
        size_t oy0, oy1, ox0, ox1;
        keras_covering(py, a.k, a.s, a.oh, &oy0, &oy1);
        keras_covering(px, a.k, a.s, a.ow, &ox0, &ox1);
        float acc = grad_x[i];
        for (size_t oy = oy0; oy <= oy1; oy++) {
            const size_t ky = py - oy * a.s;
            for (size_t ox = ox0; ox <= ox1; ox++) {
                const size_t kx = px - ox * a.s;
                const size_t row = (image * a.oh + oy) * a.ow + ox;
                acc += grad_cols[row * window + (ky * a.k + kx) * a.c + ch];
            }
        }
        grad_x[i] = acc;
    }
}

// The larger of a and b, NaN if b is (a's NaN stays: nothing is larger).
__device__ static float keras_max_nan(float a, float b) { return (b > a || b != b) ? b : a; }

// y[image, oy, ox, ch] = the maximum of x's k x k window at (oy * s, ox * s) (no padding),
// read row by row from its top-left element; NaN where the window holds one. One thread per
// output value, grid-stride.
extern "C" __global__ void keras_max_pool(const WindowArgs a, const float *x, float *y) {
    const size_t n = a.images * a.oh * a.ow * a.c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t ch = i % a.c;
        const size_t ox = (i / a.c) % a.ow;
        const size_t oy = (i / (a.c * a.ow)) % a.oh;
        const size_t image = i / (a.c * a.ow * a.oh);
        const float *top_left = x + ((image * a.h + oy * a.s) * a.w + ox * a.s) * a.c + ch;
        float m = top_left[0];
        for (size_t ky = 0; ky < a.k; ky++) {
            for (size_t kx = 0; kx < a.k; kx++) {
                m = keras_max_nan(m, top_left[(ky * a.w + kx) * a.c]);
            }
        }
        y[i] = m;
    }
}

// dx[image, iy, ix, ch] += g[o] for every window o (in the order of the output pixels) whose
// maximum y[o] this element is: the first element of the window, read row by row, that equals
// y[o] (or the first NaN, where y[o] is NaN). One element per window and channel gets its
// gradient, as with Keras on JAX. One thread per input value, grid-stride.
extern "C" __global__ void keras_max_pool_grad(const WindowArgs a, const float *x, const float *y,
                                               const float *g, float *dx) {
    const size_t n = a.images * a.h * a.w * a.c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t ch = i % a.c;
        const size_t ix = (i / a.c) % a.w;
        const size_t iy = (i / (a.c * a.w)) % a.h;
        const size_t image = i / (a.c * a.w * a.h);
        size_t oy0, oy1, ox0, ox1;
        keras_covering(iy, a.k, a.s, a.oh, &oy0, &oy1);
        keras_covering(ix, a.k, a.s, a.ow, &ox0, &ox1);
        float acc = dx[i];
        for (size_t oy = oy0; oy <= oy1; oy++) {
            for (size_t ox = ox0; ox <= ox1; ox++) {
                const size_t o = ((image * a.oh + oy) * a.ow + ox) * a.c + ch;
                const float m = y[o];
                const bool nan = m != m;
                // The window's first maximum, in the forward's reading order.
                size_t first = a.k * a.k;
                for (size_t t = 0; t < a.k * a.k && first == a.k * a.k; t++) {
                    const size_t r = oy * a.s + t / a.k;
                    const size_t q = ox * a.s + t % a.k;
                    const float v = x[((image * a.h + r) * a.w + q) * a.c + ch];
                    if (v == m || (nan && v != v)) {
                        first = t;
                    }
                }
                if (first == (iy - oy * a.s) * a.k + (ix - ox * a.s)) {
                    acc += g[o];
                }
            }
        }
        dx[i] = acc;
    }
}

// y[image, oy, ox, ch] = the sum of x's k x k window at (oy * s, ox * s) (no padding), read row
// by row from its top-left element, divided by k * k (Keras on JAX: reduce_window(add) /
// prod(pool_size)). One thread per output value, grid-stride.
extern "C" __global__ void keras_avg_pool(const WindowArgs a, const float *x, float *y) {
    const size_t n = a.images * a.oh * a.ow * a.c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    const float size = (float)(a.k * a.k);
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t ch = i % a.c;
        const size_t ox = (i / a.c) % a.ow;
        const size_t oy = (i / (a.c * a.ow)) % a.oh;
        const size_t image = i / (a.c * a.ow * a.oh);
        const float *top_left = x + ((image * a.h + oy * a.s) * a.w + ox * a.s) * a.c + ch;
        float sum = 0.0f;
        for (size_t ky = 0; ky < a.k; ky++) {
            for (size_t kx = 0; kx < a.k; kx++) {
                sum += top_left[(ky * a.w + kx) * a.c];
            }
        }
        y[i] = sum / size;
    }
}

// dx[image, iy, ix, ch] += g[o] / (k * k) for every window o that holds the element, in the
// order of the output pixels. One thread per input value, grid-stride. The parameters are
// keras_max_pool_grad's, so one plan launches either; x and y are not read.
extern "C" __global__ void keras_avg_pool_grad(const WindowArgs a, const float *x, const float *y,
                                               const float *g, float *dx) {
    const size_t n = a.images * a.h * a.w * a.c;
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    const float size = (float)(a.k * a.k);
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const size_t ch = i % a.c;
        const size_t ix = (i / a.c) % a.w;
        const size_t iy = (i / (a.c * a.w)) % a.h;
        const size_t image = i / (a.c * a.w * a.h);
        size_t oy0, oy1, ox0, ox1;
        keras_covering(iy, a.k, a.s, a.oh, &oy0, &oy1);
        keras_covering(ix, a.k, a.s, a.ow, &ox0, &ox1);
        float acc = dx[i];
        for (size_t oy = oy0; oy <= oy1; oy++) {
            for (size_t ox = ox0; ox <= ox1; ox++) {
                acc += g[((image * a.oh + oy) * a.ow + ox) * a.c + ch] / size;
            }
        }
        dx[i] = acc;
    }
}
