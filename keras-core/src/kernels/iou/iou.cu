// keras-rs: an IoU metric's confusion matrix on the device (Keras's _IoUBase.update_state), the
// CUDA kernel beside cpu_kernel.rs. Each thread takes elements e = blockIdx.x * blockDim.x +
// threadIdx.x, + gridDim.x * blockDim.x, ...: its true id, predicted id and weight, read as
// cpu_kernel.rs reads them, and adds the weight to the (true, predicted) count with a 64-bit
// integer atomic: into the block's shared histogram when the matrix fits in it (then the block
// adds its histogram to the counts), else straight into the counts. Integer sums do not depend
// on their order: the counts are the CPU kernel's exactly.
//
//   rows, cols      the batch: rows x cols predictions (row-major)
//   classes         the matrix is classes x classes (rows: true class)
//   ignore_class    a true id whose elements are skipped, when has_ignore
//   truth           0: each label is an id (one per element); 1: each label row's arg-max
//   pred            0: each prediction is an id; 1: each row's arg-max; 2: 1 at or above
//                   threshold, else 0
//   p, t, w         predictions, labels, per-row weights or null
//   counts          classes x classes counts, then the check words (IouForm::CHECK_LEN): how many
//                   predicted ids were out of range (skipped), the bits of the first one and its
//                   element's index (the first in element order of the first batch that had
//                   one, as cpu_kernel.rs records it), then two words a launch uses and leaves
//                   at 0: this batch's first bad element as ~((index << 32) | bits) (atomicMax:
//                   the lowest index wins, 0 is none), and the count of blocks done (the last
//                   block moves this batch's first into the record when the record is empty)

#include <limits.h>
#include <stddef.h>

#define KERAS_IOU_SHARED_CELLS 4096

// Rust's `as i64`: truncated toward zero, NaN to 0, saturating (cells.rs's class_id).
__device__ static long long keras_iou_trunc(const float x) {
    if (isnan(x)) {
        return 0;
    }
    if (x >= 9223372036854775808.0f) {
        return LLONG_MAX;
    }
    if (x <= -9223372036854775808.0f) {
        return LLONG_MIN;
    }
    return (long long)x;
}

// Index of the first maximum (ties to the lowest index; a NaN never wins a comparison).
__device__ static long long keras_iou_argmax(const float *row, const size_t cols) {
    size_t best = 0;
    for (size_t i = 1; i < cols; i++) {
        if (row[i] > row[best]) {
            best = i;
        }
    }
    return (long long)best;
}

// The shape and options, by value (cuda_kernel.rs's IouArgs, field for field).
struct IouArgs {
    size_t rows;
    size_t cols;
    size_t classes;
    long long ignore_class;
    unsigned int has_ignore;
    unsigned int truth;
    unsigned int pred;
    float threshold;
};

extern "C" __global__ void keras_iou_update(const IouArgs a, const float *p, const float *t,
                                            const float *w, long long *counts) {
    extern __shared__ unsigned long long hist[];
    const size_t rows = a.rows, cols = a.cols, classes = a.classes;
    const size_t cells = classes * classes;
    const bool shared = cells <= KERAS_IOU_SHARED_CELLS;
    if (shared) {
        for (size_t i = threadIdx.x; i < cells; i += blockDim.x) {
            hist[i] = 0;
        }
        __syncthreads();
    }
    const size_t n = a.pred == 1 ? rows : rows * cols;
    const size_t per_row = rows > 0 && n / rows > 0 ? n / rows : 1;
    long long *check = counts + cells;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += stride) {
        const size_t r = e / per_row;
        const long long tid =
            a.truth == 1 ? keras_iou_argmax(t + r * cols, cols) : keras_iou_trunc(t[e]);
        if ((a.has_ignore && tid == a.ignore_class) || tid < 0 || tid >= (long long)classes) {
            continue;
        }
        long long pid;
        if (a.pred == 1) {
            pid = keras_iou_argmax(p + r * cols, cols);
        } else if (a.pred == 2) {
            pid = p[e] >= a.threshold ? 1 : 0;
        } else {
            const float v = p[e];
            pid = keras_iou_trunc(v);
            if (pid < 0 || pid >= (long long)classes || !isfinite(v)) {
                atomicAdd((unsigned long long *)check, 1ULL);
                const unsigned long long index = e < 0xfffffffeULL ? e : 0xfffffffeULL;
                const unsigned long long key = (index << 32) | __float_as_uint(v);
                atomicMax((unsigned long long *)&check[3], ~key);
                continue;
            }
        }
        const long long weight = w ? keras_iou_trunc(w[r]) : 1;
        if (weight == 0) {
            continue;
        }
        const size_t cell = (size_t)tid * classes + (size_t)pid;
        if (shared) {
            atomicAdd(&hist[cell], (unsigned long long)weight);
        } else {
            atomicAdd((unsigned long long *)&counts[cell], (unsigned long long)weight);
        }
    }
    if (shared) {
        __syncthreads();
        for (size_t i = threadIdx.x; i < cells; i += blockDim.x) {
            if (hist[i] != 0ULL) {
                atomicAdd((unsigned long long *)&counts[i], hist[i]);
            }
        }
    }
    // The last block to finish sees every block's bad elements: it records this batch's first
    // when no earlier batch recorded one (bits of a bad prediction are never 0: 0.0 is a valid
    // id), and leaves both scratch words at 0 for the next launch.
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        unsigned long long *done = (unsigned long long *)&check[4];
        if (atomicAdd(done, 1ULL) == (unsigned long long)gridDim.x - 1ULL) {
            const unsigned long long first = atomicExch((unsigned long long *)&check[3], 0ULL);
            if (first != 0ULL && check[1] == 0) {
                const unsigned long long key = ~first;
                check[1] = (long long)(key & 0xffffffffULL);
                check[2] = (long long)(key >> 32);
            }
            atomicExch(done, 0ULL);
        }
    }
}
