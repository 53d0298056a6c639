//! The tiny classifier the error tests train: one `Dense<2, 3>` layer, SGD, sparse
//! crossentropy from logits and accuracy, on `n` samples of two features and three classes, on
//! [`TestDevice`](super::TestDevice).

use keras_core::data::ArrayDataset;
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, Linear};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::{KerasOptimizer, Sgd};
use keras_core::target::Sparse;
use keras_core::{Sequential, Trainer};

use super::TestDevice;

/// One linear layer, two features to three logits.
#[derive(Sequential)]
pub struct Tiny<E: Dtype, D: Device<E>> {
    out: Dense<2, 3, Linear, E, D>,
}

/// [`Tiny`] compiled by [`trainer`].
pub type TinyTrainer = Trainer<
    Tiny<f32, TestDevice>,
    KerasOptimizer<Sgd>,
    SparseCategoricalCrossentropy,
    (ResolvedAccuracy<Sparse>,),
    (),
    TestDevice,
>;

/// [`Tiny`] compiled with SGD, sparse crossentropy from logits and accuracy.
pub fn trainer() -> TinyTrainer {
    let dev = TestDevice::seed_from_u64(1);
    Trainer::compile(
        Tiny::<f32, TestDevice>::build(&dev),
        Sgd::new().build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (ResolvedAccuracy::default(),),
        &dev,
    )
    .unwrap()
}

/// `n` samples: features `i / 10`, labels `i % 3`.
pub fn data(n: usize) -> ArrayDataset<Rank1<2>, Sparse> {
    let x = (0..2 * n).map(|i| i as f32 / 10.0).collect();
    let y = (0..n).map(|i| (i % 3) as f32).collect();
    ArrayDataset::new(x, y).unwrap()
}
