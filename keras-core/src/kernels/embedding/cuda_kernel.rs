//! The embedding lookup on `Cuda`: `embedding.cu`'s kernels on dfdx's stream, one launch each
//! way, reading the float-coded ids where they lie on the device.

use dfdx::shapes::{HasShape, Rank2, Shape};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};

use super::launch::{plan, NAMES};
use super::EmbeddingKernel;
use crate::kernels::cuda_function::{address, grad_address, run_kernel};
use crate::kernels::dropout::row_major;

/// `embedding.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/embedding.ptx"));

/// The module the kernels are loaded under, its PTX and its kernels.
const MODULE: (&str, &str, &[&str]) = ("keras_embedding", PTX, &NAMES);

impl EmbeddingKernel for Cuda {
    fn try_embedding_lookup<const V: usize, const M: usize, S: Shape, O: Shape, T>(
        table: Tensor<Rank2<V, M>, f32, Self, T>,
        ids: &Tensor<S, f32, Self>,
        out: O,
    ) -> Result<Tensor<O, f32, Self, T>, CudaError>
    where
        T: Tape<f32, Self>,
    {
        let n = ids.shape().num_elements();
        if out.num_elements() != n * M {
            return Err(CudaError::Cpu(dfdx::tensor::CpuError::WrongNumElements));
        }
        let dev = table.device().clone();
        if n * M == 0 {
            // Nothing to look up or to train (and no empty buffer to launch on).
            let (_, tape) = table.split_tape();
            return Ok(dev.try_zeros_like(&out)?.put_tape(tape));
        }
        // The kernels index the ids in row-major order (the uploaded batch already is).
        let ids = row_major(ids.clone())?;
        let table = row_major(table)?;
        // Not zero-filled: the lookup writes every value.
        let rows: Tensor<O, f32, Cuda> = dev.try_unfilled_like(&out)?;
        let launch = plan(n, V, M, address(&ids), address(&table), address(&rows));
        // SAFETY: the kernel reads the `n` ids and, at rows below `V`, the table's `V · M`
        // values, and writes the `n · M` values of `rows`: live row-major buffers of `dev` of
        // those lengths, on dfdx's stream.
        unsafe { run_kernel(&dev, MODULE, NAMES[0], launch) }?;
        let (table, mut tape) = table.split_tape();
        if T::OWNS_TAPE {
            let rows = rows.clone();
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| {
                let g = grad_address(grads, &rows)?;
                let g_table = grad_address(grads, &table)?;
                let launch = plan(n, V, M, address(&ids), g, g_table);
                // SAFETY: the kernel reads the `n` ids and the `n · M` values of the output's
                // gradient, and adds to the table's gradient at rows below `V` (`V · M`
                // values): live buffers of `dev`, on dfdx's stream.
                unsafe { run_kernel(&dev, MODULE, NAMES[1], launch) }
            });
        }
        Ok(rows.put_tape(tape))
    }
}
