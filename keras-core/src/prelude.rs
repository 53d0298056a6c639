//! The names a user needs to define, compile and fit a model: `use keras_core::prelude::*;`.
//!
//! Losses and metrics that share a Keras name (`MeanSquaredError` is both) stay behind their
//! modules: write `losses::MeanSquaredError` and `metrics::MeanSquaredError`.

pub use crate::callbacks::{
    BackupAndRestore, CSVLogger, Callback, CallbackContext, EarlyStopping, History, LambdaCallback,
    LearningRateScheduler, Logs, ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TensorBoard,
    TerminateOnNaN,
};
pub use crate::data::{ArrayDataset, Dataset, Shuffle};
pub use crate::kernels::DenseKernel;
pub use crate::layers::{
    BatchNormalization, Dense, Dropout, Elu, Embedding, Flatten, Gelu, LayerNormalization,
    LeakyReLU, Linear, ReLU, Sigmoid, Silu, Softmax, Softplus, Swish, Tanh,
};
pub use crate::optimizers::{
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Ftrl, Lamb, Lion, Nadam, Optimizer, RMSprop,
    Sgd,
};
pub use crate::target::{Dense as DenseTarget, NoLabels, Sparse};
pub use crate::trainer::{FitConfig, Trainer, ValidationFreq};
pub use crate::{losses, metrics, Error, Model, Result, Sequential};
pub use dfdx::{
    nn::{BuildModule, Module, ModuleMut, NumParams, ZeroGrads},
    shapes::{Const, Dtype, HasShape, Rank1, Rank2, Rank3, Rank4},
    tensor::{
        AsArray, Cpu, OnesTensor, SampleTensor, Tensor, TensorFrom, TensorFromVec, Trace,
        ZerosTensor,
    },
    tensor_ops::Device,
};
