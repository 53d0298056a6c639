// Checks that `TopKCategoricalAccuracy<5>` on a 3-wide output does not build (a `const`
// assertion: it fails in `cargo build`, which the pass cases in this run force).
use keras::prelude::*;

#[derive(Sequential)]
struct Classifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Softmax, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Classifier::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<4>, DenseTarget<3>>::new(
        vec![0.0; 8],
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    )?;
    let mut trainer = Trainer::compile(
        model,
        Adam::new().build()?,
        losses::CategoricalCrossentropy::default(),
        (metrics::TopKCategoricalAccuracy::<5>::new()?,),
        &dev,
    )?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
