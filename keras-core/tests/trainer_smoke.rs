//! `fit`, `evaluate` and `predict` on a derived MLP with a user-written optimizer, on
//! [`TestDevice`](common::TestDevice): `Cpu`, or `Cuda` with the `cuda` feature.

mod common;

use common::TestDevice;
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;
use keras_core::data::{ArrayDataset, Dataset, Shuffle};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::{FlatParams, Optimizer};
use keras_core::target::Sparse;
use keras_core::{Sequential, Trainer};

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Linear<4, 8, E, D>,
    act: ReLU,
    out: Linear<8, 3, E, D>,
}

struct PlainSgd(f32, u64);
impl Optimizer for PlainSgd {
    fn apply(&mut self, p: &mut FlatParams) -> keras_core::Result<()> {
        for (v, g) in p.values.iter_mut().zip(&p.grads) {
            *v -= self.0 * g;
        }
        self.1 += 1;
        Ok(())
    }
    fn learning_rate(&self) -> f32 {
        self.0
    }
    fn set_learning_rate(&mut self, lr: f32) -> keras_core::Result<()> {
        self.0 = lr;
        Ok(())
    }
    fn iterations(&self) -> u64 {
        self.1
    }
    fn state(&self) -> Vec<(String, Vec<f32>)> {
        vec![]
    }
    fn load_state(&mut self, _: &[(String, Vec<f32>)]) -> keras_core::Result<()> {
        Ok(())
    }
}

#[test]
fn fit_trains_a_derived_mlp() {
    let dev = TestDevice::seed_from_u64(0);
    let model = Mlp::<f32, TestDevice>::build(&dev);
    let n = 60;
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = i % 3;
        for j in 0..4 {
            x.push(if j == c { 1.0 } else { 0.0 } + 0.01 * (i as f32));
        }
        y.push(c as f32);
    }
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(x, y).unwrap();
    let mut trainer = Trainer::compile(
        model,
        PlainSgd(0.1, 0),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (ResolvedAccuracy::<Sparse>::default(),),
        &dev,
    )
    .unwrap();
    let history = trainer
        .fit(&data)
        .epochs(30)
        .batch_size(8)
        .shuffle(Shuffle::Full)
        .verbose(0)
        .validation_split(0.2)
        .run()
        .unwrap();
    let loss = history.get("loss").unwrap();
    assert!(loss[29] < loss[0], "{loss:?}");
    assert_eq!(
        history.keys,
        ["loss", "accuracy", "val_loss", "val_accuracy"]
    );
    let ev = trainer.evaluate(&data).run().unwrap();
    assert!(ev.get("accuracy").unwrap() > 0.9, "{ev:?}");
    let pred = trainer.predict(&data).batch_size(7).run().unwrap();
    assert_eq!(pred.len(), n * 3);

    // Keras's `predict(x)`: features alone give the same outputs, and `predict_on_batch` too.
    let features = ArrayDataset::<Rank1<4>, keras_core::target::NoLabels>::features(
        (0..data.len())
            .flat_map(|i| {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                data.append_sample(i, &mut x, &mut y).unwrap();
                x
            })
            .collect(),
    )
    .unwrap();
    assert_eq!(
        trainer.predict(&features).batch_size(7).run().unwrap(),
        pred
    );
    assert_eq!(trainer.predict_on_batch(&features).unwrap(), pred);
}
