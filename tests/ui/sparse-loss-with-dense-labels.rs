// Checks that a sparse-label loss (`SparseCategoricalCrossentropy`, one class id per sample) with
// one-hot `DenseTarget<3>` labels does not build.
use keras::prelude::*;

#[derive(Sequential)]
struct Classifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Classifier::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<4>, DenseTarget<3>>::new(vec![0.0; 16], vec![0.0; 12])?;
    let mut trainer = Trainer::compile(
        model,
        Adam::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
