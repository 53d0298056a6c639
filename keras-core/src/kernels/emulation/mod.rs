//! The CPU emulation of this crate's CUDA kernels (the `cuda-emulation` feature, for tests).
//!
//! The build script compiles every `.cu` file under `src/kernels` as C++ with
//! `emulation/cuda_emulation.hpp` in place of CUDA's built-ins; [`launch`] runs one of those
//! kernels over a [`Launch`] plan, block after block, each of a block's threads a fiber
//! (`emulation/runtime.cpp`) that switches at `__syncthreads`, a real barrier; atomics are real
//! atomic read-modify-writes, shared memory is one array per block. The parameters are the ones
//! the `Cuda` launcher builds (each family's `launch.rs`), with host addresses where the
//! device's would be.
//!
//! What this shows: the kernels' own logic (indexing, reductions, the codes the Rust side
//! passes, the layout of the argument structs) agrees with the CPU kernels. What it does not: the
//! GPU's own arithmetic (its math library is a few ulps from the host's), its scheduling, or
//! cudarc's calls; those need a GPU (`scripts/gpu-check.sh`).

use std::ffi::{c_char, c_int, c_void, CString};

use super::launch::Launch;

pub(crate) mod blas;
#[cfg(test)]
pub(crate) mod samples;

extern "C" {
    fn keras_emu_arity(name: *const c_char) -> i64;
    fn keras_emu_launch(
        name: *const c_char,
        grid: *const u32,
        block: *const u32,
        shared_bytes: usize,
        params: *mut *mut c_void,
        count: usize,
    ) -> c_int;
}

/// A kernel parameter passed by value: plain data whose layout is the `.cu` side's.
///
/// # Safety
/// The type must be `Copy` plain data with the layout of the kernel parameter it is passed as.
pub(crate) unsafe trait Param: Copy {}

// SAFETY: primitive types with the layout of `size_t`, `unsigned int`, `float`, ... on x86-64
// and aarch64 Linux.
unsafe impl Param for usize {}
// SAFETY: as above.
unsafe impl Param for u32 {}
// SAFETY: as above.
unsafe impl Param for i64 {}
// SAFETY: as above.
unsafe impl Param for u64 {}
// SAFETY: as above.
unsafe impl Param for f32 {}
// SAFETY: as above.
unsafe impl Param for f64 {}

/// A launch's parameters, a tuple of [`Param`]s in the kernel's order.
pub(crate) trait Params {
    /// One pointer per parameter, to its value (as `cuLaunchKernel` takes them).
    fn pointers(&self) -> Vec<*mut c_void>;
}

macro_rules! params_tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Param),+> Params for ($($t,)+) {
            fn pointers(&self) -> Vec<*mut c_void> {
                vec![$(&self.$i as *const $t as *mut c_void),+]
            }
        }
    };
}
params_tuple!(A 0, B 1, C 2);
params_tuple!(A 0, B 1, C 2, D 3);
params_tuple!(A 0, B 1, C 2, D 3, E 4);
params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// Why an emulated launch did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum EmulationError {
    /// No kernel of that name in the `.cu` files.
    UnknownKernel(String),
    /// The kernel takes another number of parameters.
    ParamCount(String, usize),
    /// A block of 0 or more than 1024 threads, or an empty grid.
    BadShape(Launch),
}

/// How many parameters kernel `name` takes, or `None` when no `.cu` file has it.
pub(crate) fn arity(name: &str) -> Option<usize> {
    let c_name = CString::new(name).ok()?;
    // SAFETY: the name is a C string; the call only reads the kernel table.
    let arity = unsafe { keras_emu_arity(c_name.as_ptr()) };
    usize::try_from(arity).ok()
}

/// Asserts that every kernel a launcher loads (its `NAMES`, which cudarc's `load_ptx` needs to
/// find in the module) is a kernel of the `.cu` files.
#[track_caller]
pub(crate) fn assert_kernels_exist(names: &[&str]) {
    for name in names {
        assert!(arity(name).is_some(), "no kernel `{name}` in the .cu files");
    }
}

/// The address of `values`, as a kernel parameter.
pub(crate) fn address<T>(values: &[T]) -> u64 {
    values.as_ptr() as u64
}

/// Runs kernel `name` over `plan` with `params`.
///
/// # Safety
/// As a CUDA launch: every address among `params` must point at host memory the kernel may read
/// (and write, for its outputs) as far as it does for this plan, valid for the call, with no
/// other reference alive to what it writes.
pub(crate) unsafe fn launch<P: Params>(
    name: &str,
    plan: Launch,
    params: &P,
) -> Result<(), EmulationError> {
    let c_name = CString::new(name).map_err(|_| EmulationError::UnknownKernel(name.into()))?;
    let mut pointers = params.pointers();
    // SAFETY: the name is a C string, the dimensions three `u32` each, the pointers point at
    // `params`' values for the call; what the kernel touches is the caller's promise.
    let code = unsafe {
        keras_emu_launch(
            c_name.as_ptr(),
            [plan.grid, plan.grid_y, 1].as_ptr(),
            [plan.block, 1, 1].as_ptr(),
            plan.shared_bytes as usize,
            pointers.as_mut_ptr(),
            pointers.len(),
        )
    };
    match code {
        0 => Ok(()),
        1 => Err(EmulationError::UnknownKernel(name.into())),
        2 => Err(EmulationError::ParamCount(name.into(), pointers.len())),
        _ => Err(EmulationError::BadShape(plan)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_kernel_or_a_wrong_parameter_count_is_refused() {
        let x = [1.0f32; 4];
        // SAFETY: nothing runs.
        let unknown = unsafe {
            launch(
                "no_such_kernel",
                Launch::one_block(32),
                &(4usize, 2.0f32, address(&x)),
            )
        };
        assert_eq!(
            unknown,
            Err(EmulationError::UnknownKernel("no_such_kernel".into()))
        );
        // SAFETY: nothing runs.
        let count = unsafe {
            launch(
                "keras_unscale",
                Launch::one_block(32),
                &(4usize, 2.0f32, address(&x), 0u64),
            )
        };
        assert_eq!(
            count,
            Err(EmulationError::ParamCount("keras_unscale".into(), 4))
        );
        // SAFETY: nothing runs.
        let shape = unsafe {
            launch(
                "keras_unscale",
                Launch::one_block(2048),
                &(4usize, 2.0f32, address(&x)),
            )
        };
        assert!(matches!(shape, Err(EmulationError::BadShape(_))));
    }

    #[test]
    fn arities_come_from_the_kernel_table() {
        assert_eq!(arity("keras_unscale"), Some(3));
        assert_eq!(arity("keras_dense_bias"), Some(5));
        assert_eq!(arity("no_such_kernel"), None);
    }

    #[test]
    fn a_grid_stride_kernel_visits_every_element_once() {
        let mut g: Vec<f32> = (0..3000).map(|i| i as f32).collect();
        let plan = Launch {
            grid: 2,
            grid_y: 1,
            block: 64,
            shared_bytes: 0,
        };
        // SAFETY: `keras_unscale` reads and writes the 3000 floats of `g`.
        unsafe {
            launch(
                "keras_unscale",
                plan,
                &(g.len(), 2.0f32, g.as_mut_ptr() as u64),
            )
        }
        .unwrap();
        assert!(g.iter().enumerate().all(|(i, &v)| v == i as f32 / 2.0));
    }
}
