// Checks that fitting a model on samples whose feature count differs from its first layer's
// input width (`Rank1<5>` samples into `Dense<4, ...>`) does not build.
use keras::prelude::*;

#[derive(Sequential)]
struct Classifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Classifier::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<5>, Sparse>::new(vec![0.0; 10], vec![0.0, 1.0])?;
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
