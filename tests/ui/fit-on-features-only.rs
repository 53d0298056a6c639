// Checks that `fit` on features without labels (`NoLabels`, the data `predict` takes) does not
// build, and that the first error names the labels the loss takes.
use keras::prelude::*;

#[derive(Sequential)]
struct Classifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Classifier::<f32, Cpu>::build(&dev);
    let features = ArrayDataset::<Rank1<4>, NoLabels>::features(vec![0.0; 16])?;
    let mut trainer = Trainer::compile(
        model,
        Adam::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let _ = trainer.predict(&features).run()?;
    trainer.fit(&features).epochs(1).run()?;
    Ok(())
}
