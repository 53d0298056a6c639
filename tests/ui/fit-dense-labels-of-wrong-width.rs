// Checks that fitting a 3-wide model with a dense-label loss on labels 2 values wide does not
// build: `losses::MeanSquaredError` on a 3-wide output takes `DenseTarget<3>` labels.
use keras::prelude::*;

#[derive(Sequential)]
struct Regressor<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Regressor::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<4>, DenseTarget<2>>::new(vec![0.0; 16], vec![0.0; 8])?;
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
