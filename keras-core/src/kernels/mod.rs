//! Compute kernels behind the layers.
//!
//! - [`DenseKernel`] and [`try_dense`]: the product of `Dense` (and of `Conv2D` over its
//!   windows in `f64`; on `Cuda` in `f32` the convolution runs the same fused product's plan),
//!   one kernel per device and dtype. On `Cpu` in `f32` it is one
//!   fused op on dfdx's tape (bias and ReLU folded into the product's stores); on `Cuda` in `f32`
//!   one fused op too (cuBLAS's products, the bias and ReLU in one kernel, the ReLU mask and the
//!   bias gradient in another); `f64` uses dfdx's ops through [`dense_with_ops`].
//!   [`DenseActivation`] says whether a layer's activation folds into the op.
//! - [`ActivationKernel`] and [`try_activation`]: Keras's element-wise activations that dfdx has
//!   no single op for (`ELU`, `LeakyReLU`, exact `GELU`, swish, softplus; an [`Activation`]),
//!   one op per device on dfdx's tape ([`activation`]; `Cpu` in `f32` and `f64`, `Cuda` in
//!   `f32`: one kernel each way), dfdx's ops on `Cuda` in `f64`.
//! - [`ConvKernel`]: `Conv2D`'s convolution and `MaxPooling2D`'s and `AveragePooling2D`'s
//!   pooling ([`conv`]), one kernel per device and dtype: on `Cpu` in `f32` one op each, the
//!   windows packed block by block straight into `gemm`'s products; on `Cuda` in `f32` one op
//!   each, the windows gathered on the device for `Dense`'s fused product; in `f64` dfdx's ops
//!   over gathered windows.
//! - [`SoftmaxCrossentropyKernel`] and [`try_softmax_crossentropy`]: the softmax crossentropy
//!   reduced to the loss ([`crossentropy`]), one op per device on dfdx's tape (`Cuda`: one
//!   kernel each way), the device form of Keras's crossentropies from logits.
//! - [`DropoutMaskKernel`] and [`try_masked_dropout`]: Keras's inverted dropout with a mask
//!   drawn from a seed and each element's index ([`DropoutMask`], [`dropout`]), the same on
//!   every device, one op per device (`Cuda`: one kernel each way, nothing drawn on the host).
//! - [`EmbeddingKernel`] and [`try_embedding_lookup`]: `Embedding`'s lookup on float-coded
//!   token ids ([`embedding`]), one op per device on dfdx's tape (`Cuda`: one kernel each way,
//!   on the ids where the batch was uploaded).
//! - [`GlobalPoolKernel`] and [`try_global_avg_pool`]: the global average poolings' mean over
//!   steps or pixels ([`global_pool`]), one op per device on dfdx's tape in `f32` (`Cuda`: one
//!   kernel each way, summed in a fixed order), dfdx's mean in `f64`.
//! - [`BatchNormKernel`]: Keras's batch normalization over the last axis ([`batch_norm`]), in
//!   training (the batch's statistics, the moving ones updated) and inference, one op per
//!   device on dfdx's tape in `f32`, dfdx's ops in `f64`.
//! - [`LayerNormKernel`] and [`try_layer_norm`]: Keras's layer normalization over the last axis
//!   ([`layer_norm`]), one op per device on dfdx's tape in `f32` (`Cuda`: one kernel forward,
//!   two backward), dfdx's ops in `f64`.
//! - [`NormalizeKernel`] and [`try_normalize`]: Keras's `Normalization` preprocessing layer's
//!   arithmetic ([`normalize`]), one op per device on dfdx's tape in `f32` (`Cuda`: one kernel
//!   each way), dfdx's ops in `f64`; the statistics are constants, and a data batch gets no
//!   gradient.
//! - [`matmul`] on [`MatRef`] views: the safe `f32` matrix product it is built on; large products
//!   run as one single-threaded product per block of the output on rayon's threads. The kernel
//!   is picked at run time: on x86-64 CPUs with AVX2/FMA and no AVX-512, our own BLIS-style
//!   `6 × 16` kernel (`sgemm_avx2`); elsewhere `gemm` 0.19's (AVX-512, other SIMD or scalar).
//!   `KERAS_RS_GEMM=crate` forces `gemm`'s, for comparisons.
//! - Parallel host copies (`par_copy`, `par_take`) for the trainer's per-step moves of weights and
//!   gradients.
//! - `launch.rs` and each CUDA family's `launch.rs`: the plan of a kernel launch (grid, block,
//!   shared memory, parameters), built once for the `Cuda` launcher and for `emulation`, which
//!   runs the `.cu` sources on the CPU in tests (feature `cuda-emulation`).
//! - [`mark_data_input`]: tells the fused op that a batch is data, so its gradient is skipped.
//! - `host_copy`: the host values a trainer uploaded a batch from, registered for the forward
//!   pass, so that a layer that must read the batch on the host (`Embedding` checking its ids)
//!   does not copy it back from the device.
//! - [`update`]: an optimizer's update of one variable on the variable's own buffers, with a
//!   CPU kernel and a CUDA kernel side by side ([`DeviceUpdate`] describes a step to the latter).
//! - [`confusion`]: a confusion-matrix metric's counts per threshold (Keras's
//!   `update_confusion_matrix_variables`, described by a [`ConfusionForm`]) on the device that
//!   holds the model's output, with a CPU kernel and a CUDA kernel side by side.
//! - [`columns`]: per-column sums (Keras's `FBetaScore` and `R2Score` states, described by a
//!   [`ColumnForm`]) on the device that holds the model's output, with a CPU kernel and a CUDA
//!   kernel side by side.
//! - [`iou`]: the confusion matrix of Keras's IoU metrics (integer counts per true and
//!   predicted class, described by an [`IouForm`]) on the device that holds the model's output,
//!   with a CPU kernel and a CUDA kernel side by side.
//! - [`marks`]: marks on a device's timeline for a step profile (CUDA events on `Cuda`).
//! - [`staging`]: per-step uploads that do not wait for the device (pinned host buffers on
//!   `Cuda`).
//! - [`metric`]: a mean metric's update (Keras's `MeanMetricWrapper` over a [`RowMetric`]) on
//!   the device that holds the model's output, with a CPU kernel and a CUDA kernel side by side.
//! - [`use_current_thread_in_pool`]: makes the training thread one of rayon's workers, so the
//!   products do not each cost two thread wake-ups.

pub mod activation;
pub mod batch_norm;
pub mod columns;
pub mod confusion;
pub mod conv;
mod cpu_view;
pub mod crossentropy;
#[cfg(feature = "cuda")]
mod cuda_function;
mod dense;
pub mod dropout;
pub mod embedding;
#[cfg(all(test, feature = "cuda-emulation"))]
pub(crate) mod emulation;
mod finite;
mod gemm_f32;
pub mod global_pool;
#[cfg(test)]
mod hashed_values;
mod host_copy;
pub mod iou;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
pub mod layer_norm;
pub mod marks;
pub mod metric;
pub mod normalize;
mod par_copy;
#[cfg(target_arch = "x86_64")]
mod sgemm_avx2;
pub mod staging;
mod thread_pool;
pub mod update;
pub(crate) mod windows;

pub use activation::{try_activation, Activation, ActivationKernel};
pub use batch_norm::{
    batch_norm_infer_with_ops, batch_norm_train_with_ops, BatchNormKernel, Moving,
};
pub use columns::{ColumnForm, ColumnSums};
pub use confusion::{Comparison, ConfusionConsts, ConfusionForm};
pub use conv::ConvKernel;
pub(crate) use cpu_view::contiguous_mut;
pub use crossentropy::{
    reduce_with_ops, softmax_crossentropy_with_ops, try_softmax_crossentropy,
    SoftmaxCrossentropyKernel,
};
#[cfg(feature = "cuda")]
pub(crate) use cuda_function::invalid_value as cuda_invalid_value;
pub(crate) use dense::try_dense_activated;
pub use dense::{
    dense_with_ops, mark_data_input, try_dense, DenseActivation, DenseKernel, Epilogue,
};
pub use dropout::{try_masked_dropout, DropoutMask, DropoutMaskKernel};
pub use embedding::{try_embedding_lookup, EmbeddingKernel};
pub(crate) use finite::relu_f32;
pub use finite::{all_finite, relu_keeping_nan};
pub use gemm_f32::{matmul, MatRef};
pub use global_pool::{try_global_avg_pool, GlobalPoolKernel};
pub(crate) use host_copy::{read_host_copy, with_host_copy};
pub use iou::{ClassIds, IouForm};
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
pub(crate) use launch::Launch;
pub use layer_norm::{layer_norm_with_ops, try_layer_norm, LayerNormKernel};
pub use metric::{MeanBatch, RowMetric};
pub use normalize::{try_normalize, NormalizeKernel};
pub(crate) use par_copy::{par_copy, par_take};
#[cfg(test)]
pub(crate) use thread_pool::in_pool;
pub use thread_pool::use_current_thread_in_pool;
pub use update::{
    Accumulate, Decay, DeviceUpdate, Ema, GradScale, NormClip, Stages, UpdateKernel, UPDATE_SCALARS,
};
