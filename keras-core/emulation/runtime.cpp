// keras-rs: runs a launch of an emulated kernel (see cuda_emulation.hpp): the blocks one after
// another, each block's threads as OS threads with a barrier for __syncthreads. The kernels are
// found in the table the build script generates (keras_emu_table).

#include "cuda_emulation.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

thread_local keras_emu_dim3 threadIdx;
thread_local keras_emu_dim3 blockIdx;
thread_local keras_emu_dim3 blockDim;
thread_local keras_emu_dim3 gridDim;

// One kernel of the table: its name, a call with a launch's parameters, its parameter count.
struct KerasEmuKernel {
    const char *name;
    void (*run)(void **);
    size_t arity;
};

extern "C" const KerasEmuKernel *keras_emu_table(size_t *count);

namespace {

// A block's barrier: a thread that returns from the kernel leaves it (as on a GPU, the others
// no longer wait for it).
struct Block {
    std::mutex mutex;
    std::condition_variable released;
    unsigned int live = 0;
    unsigned int arrived = 0;
    unsigned long generation = 0;
    int all = 1, any = 0;
    int all_result = 1, any_result = 0;
    std::vector<unsigned long long> shared;

    // With the lock held: lets the waiting threads go when every live thread has arrived.
    void release_if_complete() {
        if (arrived > 0 && arrived == live) {
            all_result = all;
            any_result = any;
            all = 1;
            any = 0;
            arrived = 0;
            generation++;
            released.notify_all();
        }
    }

    void wait(int predicate, int *all_out, int *any_out) {
        std::unique_lock<std::mutex> lock(mutex);
        all = all && predicate;
        any = any || predicate;
        const unsigned long mine = generation;
        arrived++;
        release_if_complete();
        released.wait(lock, [&] { return generation != mine; });
        *all_out = all_result;
        *any_out = any_result;
    }

    void leave() {
        std::lock_guard<std::mutex> lock(mutex);
        live--;
        release_if_complete();
    }
};

thread_local Block *current = nullptr;

// One launch at a time: `__shared__` arrays are one per kernel.
std::mutex launches;

} // namespace

void __syncthreads() {
    int all, any;
    current->wait(1, &all, &any);
}

int __syncthreads_and(int predicate) {
    int all, any;
    current->wait(predicate != 0, &all, &any);
    return all;
}

int __syncthreads_or(int predicate) {
    int all, any;
    current->wait(predicate != 0, &all, &any);
    return any;
}

void *keras_emu_dynamic_shared() { return current->shared.data(); }

// Runs kernel `name` over `grid` x `block` threads with `shared_bytes` of dynamic shared
// memory and `params` (`count` pointers, one per parameter, as cuLaunchKernel takes them).
// Returns 0, or 1 for an unknown kernel, 2 for a parameter count the kernel does not take,
// 3 for a block of 0 or more than 1024 threads or an empty grid.
extern "C" int keras_emu_launch(const char *name, const unsigned int *grid,
                                const unsigned int *block, size_t shared_bytes, void **params,
                                size_t count) {
    size_t kernels = 0;
    const KerasEmuKernel *table = keras_emu_table(&kernels);
    const KerasEmuKernel *kernel = nullptr;
    for (size_t i = 0; i < kernels; i++) {
        if (strcmp(table[i].name, name) == 0) {
            kernel = &table[i];
        }
    }
    if (kernel == nullptr) {
        return 1;
    }
    if (kernel->arity != count) {
        return 2;
    }
    const unsigned long long threads = (unsigned long long)block[0] * block[1] * block[2];
    if (threads == 0 || threads > 1024 || grid[0] == 0 || grid[1] == 0 || grid[2] == 0) {
        return 3;
    }
    std::lock_guard<std::mutex> one_at_a_time(launches);
    const keras_emu_dim3 grid_dim = {grid[0], grid[1], grid[2]};
    const keras_emu_dim3 block_dim = {block[0], block[1], block[2]};
    for (unsigned int bz = 0; bz < grid[2]; bz++) {
        for (unsigned int by = 0; by < grid[1]; by++) {
            for (unsigned int bx = 0; bx < grid[0]; bx++) {
                Block b;
                b.live = (unsigned int)threads;
                b.shared.assign((shared_bytes + 7) / 8, 0ULL);
                std::vector<std::thread> workers;
                workers.reserve(threads);
                for (unsigned int tz = 0; tz < block[2]; tz++) {
                    for (unsigned int ty = 0; ty < block[1]; ty++) {
                        for (unsigned int tx = 0; tx < block[0]; tx++) {
                            workers.emplace_back([&, tx, ty, tz, bx, by, bz] {
                                threadIdx = {tx, ty, tz};
                                blockIdx = {bx, by, bz};
                                blockDim = block_dim;
                                gridDim = grid_dim;
                                current = &b;
                                kernel->run(params);
                                b.leave();
                            });
                        }
                    }
                }
                for (std::thread &w : workers) {
                    w.join();
                }
            }
        }
    }
    return 0;
}
