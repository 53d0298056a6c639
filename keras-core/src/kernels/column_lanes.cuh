// keras-rs: the per-column reduction layer_norm.cu and batch_norm.cu share. A block of 256
// threads is 32 column lanes x 8 row lanes (thread t: column lane t % 32, row lane t / 32);
// each thread brings two partial sums of its column, and the row lanes' sums are added in lane
// order, so a column's totals do not depend on the schedule. Every thread of the block must call
// it (it synchronises the block); afterwards the threads of row lane 0 hold their column's
// totals in *total_a and *total_b (the others' are left alone).
#pragma once

#define KERAS_LANE_COLS 32
#define KERAS_LANE_ROWS 8

__device__ static void keras_column_lanes_sum2(const float a, const float b, float *total_a,
                                               float *total_b) {
    __shared__ float part_a[KERAS_LANE_ROWS][KERAS_LANE_COLS];
    __shared__ float part_b[KERAS_LANE_ROWS][KERAS_LANE_COLS];
    const unsigned int col_lane = threadIdx.x % KERAS_LANE_COLS;
    const unsigned int row_lane = threadIdx.x / KERAS_LANE_COLS;
    part_a[row_lane][col_lane] = a;
    part_b[row_lane][col_lane] = b;
    __syncthreads();
    if (row_lane == 0) {
        float ta = part_a[0][col_lane];
        float tb = part_b[0][col_lane];
        for (int l = 1; l < KERAS_LANE_ROWS; l++) {
            ta += part_a[l][col_lane];
            tb += part_b[l][col_lane];
        }
        *total_a = ta;
        *total_b = tb;
    }
}
