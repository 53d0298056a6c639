//! Layers with Keras semantics over dfdx tensors.
//!
//! Every layer is a dfdx module: it implements `TensorCollection` (so `BuildModule`,
//! `num_trainable_params`, `ZeroGrads`, `ToDevice` and safetensors save/load work, with Keras's
//! parameter names), `Module` for inference on any tape, and `ModuleMut` for the training forward.
//! Defaults (initialisers, epsilons, momenta, slopes) are Keras 3's.

mod activations;
mod avg_pool2d;
mod batch_normalization;
mod conv2d;
mod dense;
mod dense_input;
mod dropout;
pub(crate) mod dropout_seeds;
mod elu;
mod embedding;
mod flatten;
mod forward_then;
mod global_average_pooling1d;
mod global_average_pooling2d;
pub mod initializers;
mod keras_config;
pub mod keras_names;
mod layer_normalization;
mod leaky_relu;
mod max_pool2d;
mod normalization;
mod weights;

pub use activations::{Gelu, Linear, ReLU, Sigmoid, Silu, Softmax, Softplus, Swish, Tanh};
pub use avg_pool2d::{AveragePooling2D, AvgPool2D};
pub use batch_normalization::BatchNormalization;
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use dense_input::{DenseForward, DenseInput, DenseLayer};
pub use dropout::Dropout;
pub use elu::Elu;
pub(crate) use embedding::take_bad_id;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use forward_then::ForwardThen;
pub use global_average_pooling1d::GlobalAveragePooling1D;
pub use global_average_pooling2d::GlobalAveragePooling2D;
pub use keras_config::{join_path, KerasActivation, KerasLayerSpec, KerasLayers, OutputShape};
pub use layer_normalization::LayerNormalization;
pub use leaky_relu::LeakyReLU;
pub use max_pool2d::{MaxPool2D, MaxPooling2D};
pub use normalization::Normalization;
