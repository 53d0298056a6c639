//! `Dense` on `Cuda`: in `f32` one fused op on dfdx's tape, in `f64` dfdx's ops.
//!
//! The fused op runs, on dfdx's stream and with dfdx's cuBLAS handle, the plan of `launch.rs`:
//! forward, the product `x · kernel` (cuBLAS) then `dense.cu`'s bias and ReLU in one kernel;
//! backward, `dense.cu`'s ReLU mask and bias gradient in one kernel, then the kernel's gradient
//! and (unless the input is the batch marked as data) the input's, as cuBLAS products that add
//! into dfdx's gradients. dfdx's ops take one kernel more forward (the bias and the ReLU are
//! two), three more backward (the ReLU's, the bias's and a second stream's synchronisation), and
//! always the input's product.

use cudarc::cublas::{result::CublasError, sys::cublasOperation_t, CudaBlas};
use cudarc::driver::{DevicePtrMut, LaunchAsync};
use dfdx::shapes::{Const, Dim, HasShape, Rank1};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::data_input::is_data_input;
use super::launch::{
    self, Backward, BackwardBuffers, DenseDims, Forward, Gemm, ReluBuffers, BIAS, BIAS_GRAD, NAMES,
    SUM_CHUNKS,
};
use super::with_ops::dense_kernel_with_ops;
use super::{dense_with_ops, DenseKernel, Epilogue};
use crate::kernels::cuda_function::{address, function, grad_address, temporary};

/// `dense.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/dense.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_dense";

dense_kernel_with_ops!(Cuda: f64);

/// The fused op. No input gradient for a batch marked with
/// [`mark_data_input`](crate::kernels::mark_data_input). Views that are not row-major (broadcast,
/// permuted or sliced operands), empty batches and sizes beyond cuBLAS's `int` go to
/// [`dense_with_ops`].
impl DenseKernel<f32> for Cuda {
    fn try_dense<B, I, const O: usize, T>(
        x: Tensor<(B, I), f32, Self, T>,
        kernel: &Tensor<(I, Const<O>), f32, Self>,
        bias: &Tensor<Rank1<O>, f32, Self>,
        epilogue: Epilogue,
    ) -> Result<Tensor<(B, Const<O>), f32, Self, T>, CudaError>
    where
        B: Dim,
        I: Dim,
        T: Tape<f32, Self>,
    {
        let inner = kernel.shape().0.size();
        let dims = DenseDims::new(x.shape().0.size(), inner, O).filter(|_| {
            x.shape().1.size() == inner
                && x.is_row_major()
                && kernel.is_row_major()
                && bias.is_row_major()
        });
        let Some(dims) = dims else {
            return dense_with_ops(x, kernel, bias, epilogue);
        };
        let dev = x.device().clone();
        // The output comes from dfdx's allocator, so its cache stays balanced; not zero-filled:
        // the product writes every element.
        let mut out: Tensor<(B, Const<O>), f32, Cuda> =
            dev.try_unfilled_like(&(x.shape().0, Const::<O>))?;
        let relu = epilogue == Epilogue::BiasRelu;
        let plan = launch::forward(
            dims,
            relu,
            address(&x),
            address(kernel),
            address(bias),
            *out.storage_mut().device_ptr_mut(),
        );
        // SAFETY: the product reads `rows × inner` floats of `x` and `inner × cols` of `kernel`
        // and writes the `rows × cols` of `out`, all row-major live buffers of this device of
        // exactly those lengths (`is_row_major`, `DenseDims`); the bias kernel reads `cols`
        // floats of `bias` and rewrites `out`'s. `out` is borrowed by nobody else.
        unsafe { run_forward(&dev, &plan) }?;
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let saved = Saved {
                x,
                kernel: kernel.clone(),
                bias: bias.clone(),
                out: out.clone(),
                relu,
                dims,
            };
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| saved.backward(grads));
        }
        Ok(out.put_tape(tape))
    }
}

/// What the backward needs, kept alive by the tape.
struct Saved<B: Dim, I: Dim, const O: usize> {
    x: Tensor<(B, I), f32, Cuda>,
    kernel: Tensor<(I, Const<O>), f32, Cuda>,
    bias: Tensor<Rank1<O>, f32, Cuda>,
    out: Tensor<(B, Const<O>), f32, Cuda>,
    relu: bool,
    dims: DenseDims,
}

impl<B: Dim, I: Dim, const O: usize> Saved<B, I, O> {
    /// Adds to the kernel, bias and (unless `x` is the data batch) input gradients.
    fn backward(self, grads: &mut Gradients<f32, Cuda>) -> Result<(), CudaError> {
        // The data batch (marked in the gradients its tape carries) gets no gradient.
        let need_dx = !is_data_input(grads, &self.x);
        let dev = self.x.device().clone();
        let dims = self.dims;
        // The gradients' device addresses: a buffer stays where it is while the map holds it
        // (only the map's handles move as it grows).
        let grad_out = grad_address(grads, &self.out)?;
        let grad_kernel = grad_address(grads, &self.kernel)?;
        let grad_bias = grad_address(grads, &self.bias)?;
        let grad_input = match need_dx {
            true => Some(grad_address(grads, &self.x)?),
            false => None,
        };
        // Temporaries from dfdx's cache; when they drop at the end, their buffers go back to it,
        // and whoever takes them next runs after these kernels on the same stream.
        let masked = temporary(&dev, if self.relu { dims.out_len() } else { 0 })?;
        let sums = temporary(&dev, dims.scratch_len())?;
        let plan = launch::backward(
            dims,
            BackwardBuffers {
                x: address(&self.x),
                kernel: address(&self.kernel),
                relu: masked.as_ref().map(|masked| ReluBuffers {
                    out: address(&self.out),
                    masked: address(masked),
                }),
                grad_out,
                scratch: sums.as_ref().map_or(0, address),
                grad_kernel,
                grad_bias,
                grad_input,
            },
        );
        // SAFETY: every buffer is a live buffer of this device of the length the plan assumes
        // (`is_row_major` and `DenseDims` in the forward, the temporaries above).
        unsafe { run_backward(&dev, &plan) }
    }
}

/// Runs a planned forward ([`launch::forward`]) on dfdx's stream, with dfdx's cuBLAS handle:
/// the product, then `keras_dense_bias`. Both run after the kernels that wrote their inputs.
///
/// # Safety
/// The plan's addresses must be live buffers of `dev`: the input, kernel and bias as long as the
/// plan's sizes say, the output (`rows × cols` floats) not read or written by anything else
/// meanwhile.
pub(crate) unsafe fn run_forward(dev: &Cuda, plan: &Forward) -> Result<(), CudaError> {
    let bias_kernel = function(dev, MODULE, PTX, &NAMES, BIAS)?;
    // cuBLAS runs in the thread's current context; cudarc's own calls set it, but a buffer from
    // the cache may have come without one.
    dev.cuda_device().bind_to_thread()?;
    // SAFETY: the caller's promise; the bias kernel's parameters are the plan's, in the order
    // of `keras_dense_bias`.
    unsafe {
        gemm(dev.cuda_blas(), &plan.product)?;
        bias_kernel.launch(plan.bias.0.into(), plan.bias.1)?;
    }
    Ok(())
}

/// Runs a planned backward ([`launch::backward`]) on dfdx's stream, in order: the ReLU mask and
/// bias gradient, the row blocks' sum, the kernel's gradient, the input's.
///
/// # Safety
/// The plan's addresses must be live buffers of `dev` as long as its sizes say:
/// `keras_dense_bias_grad` reads `rows × cols` floats of the output's gradient (and of the
/// output, after a ReLU), writes as many of the masked gradient (after a ReLU), and adds `cols`
/// floats to the bias's gradient or writes `scratch_len` of the scratch;
/// `keras_dense_sum_chunks` reads those and adds to the bias's gradient; the products read the
/// input, the kernel and the (masked) gradient and write the kernel's and the input's gradients.
/// What is written is read or written by nothing else meanwhile.
pub(crate) unsafe fn run_backward(dev: &Cuda, plan: &Backward) -> Result<(), CudaError> {
    let bias_grad = function(dev, MODULE, PTX, &NAMES, BIAS_GRAD)?;
    dev.cuda_device().bind_to_thread()?;
    // SAFETY: the caller's promise; parameters as the kernels'.
    unsafe {
        bias_grad.launch(plan.bias_grad.0.into(), plan.bias_grad.1)?;
        if let Some((shape, params)) = plan.sum_chunks {
            function(dev, MODULE, PTX, &NAMES, SUM_CHUNKS)?.launch(shape.into(), params)?;
        }
        gemm(dev.cuda_blas(), &plan.grad_kernel)?;
        if let Some(grad_input) = plan.grad_input {
            gemm(dev.cuda_blas(), &grad_input)?;
        }
    }
    Ok(())
}

/// Runs one planned product with cuBLAS (`alpha` 1).
///
/// # Safety
/// The plan's addresses must be live device buffers of `blas`'s device, as long as its sizes
/// and leading dimensions say, `c` not read or written by anything else meanwhile.
unsafe fn gemm(blas: &CudaBlas, g: &Gemm) -> Result<(), CublasError> {
    let op = |transposed: bool| match transposed {
        true => cublasOperation_t::CUBLAS_OP_T,
        false => cublasOperation_t::CUBLAS_OP_N,
    };
    // SAFETY: the caller's promise; `alpha` and `beta` are host values (cuBLAS's default pointer
    // mode), read during the call.
    unsafe {
        cudarc::cublas::result::sgemm(
            *blas.handle(),
            op(g.transa),
            op(g.transb),
            g.m,
            g.n,
            g.k,
            &1.0,
            g.a as *const f32,
            g.lda,
            g.b as *const f32,
            g.ldb,
            &g.beta,
            g.c as *mut f32,
            g.ldc,
        )
    }
}
