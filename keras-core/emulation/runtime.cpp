// keras-rs: runs a launch of an emulated kernel (see cuda_emulation.hpp): the blocks one after
// another; a block's threads are fibers (ucontext) on the calling OS thread, each run in turn
// until it returns or reaches __syncthreads, which it leaves only when every thread of the block
// that has not returned has reached it. The schedule is fixed, so a run is deterministic: the
// threads run in index order up to the first barrier, in reverse order up to the next, and so
// on, so that a kernel that reads what another thread writes without a barrier between them
// reads it both before and after the write in one launch, and fails either way. The next launch
// of the same kernel on the same OS thread starts in reverse order (then index order, and so
// on), so that a test launching a kernel twice runs each stretch between barriers both ways,
// and a test's schedules do not depend on what other tests run beside it. The kernels are found
// in the table the build script generates (keras_emu_table).

#include "cuda_emulation.hpp"

#include <ucontext.h>

#include <memory>
#include <mutex>
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

// Stack per emulated thread: the kernels keep a few scalars and call the C math library.
constexpr size_t STACK_BYTES = 64 * 1024;

enum class State { Ready, AtBarrier, Done };

struct Fiber {
    ucontext_t context;
    State state = State::Ready;
    keras_emu_dim3 index = {0, 0, 0};
};

// The block being run: its fibers, the scheduler's context, the barrier's predicate sums and
// its dynamic shared memory.
struct Block {
    std::vector<Fiber> fibers;
    ucontext_t scheduler;
    size_t current = 0;
    int all = 1, any = 0;
    int all_result = 1, any_result = 0;
    std::vector<unsigned long long> shared;
    const KerasEmuKernel *kernel = nullptr;
    void **params = nullptr;
};

Block *block = nullptr;

// One launch at a time: `__shared__` arrays are one per kernel and `block` one per process.
std::mutex launches;

void fiber_main() {
    Block &b = *block;
    b.kernel->run(b.params);
    b.fibers[b.current].state = State::Done;
    // Returning resumes `uc_link`, the scheduler.
}

// Parks the current fiber at the barrier with `predicate`, and returns once released.
void arrive(int predicate) {
    Block &b = *block;
    b.all = b.all && predicate;
    b.any = b.any || predicate;
    Fiber &f = b.fibers[b.current];
    f.state = State::AtBarrier;
    swapcontext(&f.context, &b.scheduler);
}

// Runs every fiber of `b` to completion, in reverse index order up to the first barrier when
// `reverse_first`, else in index order, alternating at each barrier.
void run_block(Block &b, bool reverse_first) {
    const size_t n = b.fibers.size();
    for (bool reverse = reverse_first;; reverse = !reverse) {
        bool waiting = false;
        for (size_t k = 0; k < n; k++) {
            b.current = reverse ? n - 1 - k : k;
            Fiber &f = b.fibers[b.current];
            if (f.state != State::Ready) {
                continue;
            }
            threadIdx = f.index;
            swapcontext(&b.scheduler, &f.context);
            waiting = waiting || f.state == State::AtBarrier;
        }
        if (!waiting) {
            return;
        }
        // Every live fiber is at the barrier: release them all.
        b.all_result = b.all;
        b.any_result = b.any;
        b.all = 1;
        b.any = 0;
        for (Fiber &f : b.fibers) {
            if (f.state == State::AtBarrier) {
                f.state = State::Ready;
            }
        }
    }
}

} // namespace

void __syncthreads() { arrive(1); }

int __syncthreads_and(int predicate) {
    arrive(predicate != 0);
    return block->all_result;
}

int __syncthreads_or(int predicate) {
    arrive(predicate != 0);
    return block->any_result;
}

void *keras_emu_dynamic_shared() { return block->shared.data(); }

// The index of kernel `name` in the table (`kernels` long), or `kernels` when there is none.
static size_t find_kernel(const KerasEmuKernel *table, size_t kernels, const char *name) {
    for (size_t i = 0; i < kernels; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return i;
        }
    }
    return kernels;
}

// The number of parameters of kernel `name`, or -1 when the `.cu` files have no such kernel.
extern "C" long long keras_emu_arity(const char *name) {
    size_t kernels = 0;
    const KerasEmuKernel *table = keras_emu_table(&kernels);
    const size_t index = find_kernel(table, kernels, name);
    return index == kernels ? -1 : (long long)table[index].arity;
}

// Runs kernel `name` over `grid` x `block` threads with `shared_bytes` of dynamic shared
// memory and `params` (`count` pointers, one per parameter, as cuLaunchKernel takes them).
// Returns 0, or 1 for an unknown kernel, 2 for a parameter count the kernel does not take,
// 3 for a block of 0 or more than 1024 threads or an empty grid, 4 when a fiber could not be
// made.
extern "C" int keras_emu_launch(const char *name, const unsigned int *grid,
                                const unsigned int *block_dim, size_t shared_bytes,
                                void **params, size_t count) {
    size_t kernels = 0;
    const KerasEmuKernel *table = keras_emu_table(&kernels);
    const size_t index = find_kernel(table, kernels, name);
    if (index == kernels) {
        return 1;
    }
    const KerasEmuKernel *kernel = &table[index];
    if (kernel->arity != count) {
        return 2;
    }
    const unsigned long long threads =
        (unsigned long long)block_dim[0] * block_dim[1] * block_dim[2];
    if (threads == 0 || threads > 1024 || grid[0] == 0 || grid[1] == 0 || grid[2] == 0) {
        return 3;
    }
    // This OS thread's launches of each kernel so far: odd ones start in reverse order.
    thread_local std::vector<unsigned long long> launched;
    launched.resize(kernels, 0);
    const bool reverse_first = launched[index]++ % 2 == 1;
    std::lock_guard<std::mutex> one_at_a_time(launches);
    // Stacks are allocated, not written: only the pages a fiber touches are committed.
    std::unique_ptr<char[]> stacks(new char[threads * STACK_BYTES]);
    gridDim = {grid[0], grid[1], grid[2]};
    blockDim = {block_dim[0], block_dim[1], block_dim[2]};
    for (unsigned int bz = 0; bz < grid[2]; bz++) {
        for (unsigned int by = 0; by < grid[1]; by++) {
            for (unsigned int bx = 0; bx < grid[0]; bx++) {
                Block b;
                b.kernel = kernel;
                b.params = params;
                b.shared.assign((shared_bytes + 7) / 8, 0ULL);
                b.fibers.resize(threads);
                blockIdx = {bx, by, bz};
                size_t i = 0;
                for (unsigned int tz = 0; tz < block_dim[2]; tz++) {
                    for (unsigned int ty = 0; ty < block_dim[1]; ty++) {
                        for (unsigned int tx = 0; tx < block_dim[0]; tx++, i++) {
                            Fiber &f = b.fibers[i];
                            f.index = {tx, ty, tz};
                            if (getcontext(&f.context) != 0) {
                                return 4;
                            }
                            f.context.uc_stack.ss_sp = stacks.get() + i * STACK_BYTES;
                            f.context.uc_stack.ss_size = STACK_BYTES;
                            f.context.uc_link = &b.scheduler;
                            makecontext(&f.context, fiber_main, 0);
                        }
                    }
                }
                block = &b;
                run_block(b, reverse_first);
                block = nullptr;
            }
        }
    }
    return 0;
}
