//! [`Launch`]: the shape of a launch of one of this crate's CUDA kernels.
//!
//! Each kernel family plans its launches (the grid, the block, the shared memory and the
//! parameters, from its buffers' lengths and addresses) in its `launch.rs`, for two callers: its
//! `cuda_kernel.rs`, which launches the plan on a `Cuda` device, and the CPU emulation of the
//! `.cu` files (the `cuda-emulation` feature, tests only), which runs the same plan on host
//! buffers.

/// How many blocks, of how many threads, with how many bytes of dynamic shared memory. Blocks
/// are one-dimensional (threads along `x`); the grid has a `y` extent for the kernels that take
/// one block per (x, y) pair (`confusion.cu`: per threshold and label column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Launch {
    /// Blocks along the grid's `x`.
    pub grid: u32,
    /// Blocks along the grid's `y` (1 for a one-dimensional grid).
    pub grid_y: u32,
    /// Threads per block.
    pub block: u32,
    /// Bytes of dynamic shared memory per block.
    pub shared_bytes: u32,
}

impl Launch {
    /// One block of `threads` threads, no dynamic shared memory.
    pub(crate) const fn one_block(threads: u32) -> Self {
        Launch {
            grid: 1,
            grid_y: 1,
            block: threads,
            shared_bytes: 0,
        }
    }

    /// Blocks of `threads` threads for one thread per element of `n`: at least one block and
    /// at most 65,535 (the kernels' grid-stride loops take the rest).
    pub(crate) fn grid_stride(n: usize, threads: u32) -> Self {
        let blocks = n.div_ceil(threads as usize).clamp(1, 65_535);
        Launch {
            grid: u32::try_from(blocks).unwrap_or(65_535),
            grid_y: 1,
            block: threads,
            shared_bytes: 0,
        }
    }

    /// Enough blocks of 1024 threads for one thread per element (cudarc's
    /// `LaunchConfig::for_num_elems`; counts beyond `u32::MAX` are clamped, and the kernels loop
    /// over the rest).
    pub(crate) fn for_elements(n: usize) -> Self {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        Launch {
            grid: n.div_ceil(1024),
            grid_y: 1,
            block: 1024,
            shared_bytes: 0,
        }
    }
}

#[cfg(feature = "cuda")]
impl From<Launch> for cudarc::driver::LaunchConfig {
    fn from(l: Launch) -> Self {
        cudarc::driver::LaunchConfig {
            grid_dim: (l.grid, l.grid_y, 1),
            block_dim: (l.block, 1, 1),
            shared_mem_bytes: l.shared_bytes,
        }
    }
}
