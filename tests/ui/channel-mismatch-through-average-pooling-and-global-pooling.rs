// Checks that a channel mismatch after AveragePooling2D and GlobalAveragePooling2D, at the Dense
// head, is the first and only error, naming both fields and both widths, in a program that
// builds the model and trains it.
use keras::layers::{AveragePooling2D, Conv2D, GlobalAveragePooling2D};
use keras::prelude::*;

#[derive(Sequential)]
struct Cnn<E: Dtype, D: Device<E>> {
    conv: Conv2D<1, 8, 3, 6, 6, 1, 1, ReLU, E, D>,
    pool: AveragePooling2D<2, 3, 3>,
    gap: GlobalAveragePooling2D,
    out: Dense<16, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Cnn::<f32, Cpu>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank3<6, 6, 1>, Sparse>::new(vec![0.0; 36], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
