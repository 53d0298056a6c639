// keras-rs: the block reduction confusion.cu and columns.cu share. Each thread's four partial
// sums go into `shared` (4 x blockDim.x floats, part k at k * blockDim.x), and a fixed-order
// tree adds them; afterwards shared[k * blockDim.x] holds the block's k-th total. Every thread
// of the block must call it (it synchronises the block); blockDim.x must be a power of two.
#pragma once

__device__ static void keras_block_sum4(float *shared, const float a, const float b,
                                        const float c, const float d) {
    const unsigned int n = blockDim.x;
    const unsigned int i = threadIdx.x;
    shared[i] = a;
    shared[n + i] = b;
    shared[2 * n + i] = c;
    shared[3 * n + i] = d;
    __syncthreads();
    for (unsigned int s = n / 2; s > 0; s >>= 1) {
        if (i < s) {
            for (unsigned int k = 0; k < 4; k++) {
                shared[k * n + i] += shared[k * n + i + s];
            }
        }
        __syncthreads();
    }
}
