// Checks that a dense-label loss (`CategoricalCrossentropy`, one-hot rows as wide as the output)
// with sparse class-id labels does not build, and that the first error names the loss and the
// data's labels.
use keras::prelude::*;

#[derive(Sequential)]
struct Classifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 10, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Classifier::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(vec![0.0; 16], vec![0.0; 4])?;
    let mut trainer = Trainer::compile(
        model,
        Adam::new().build()?,
        losses::CategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
