// Checks that `MeanIoU<4>` on a 3-wide output (one score per class) does not build: the class
// count must be the output width (or the output must be 1 wide, class ids). A `const` assertion,
// reported by `cargo build`.
use keras::prelude::*;

#[derive(Sequential)]
struct Segmenter<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Segmenter::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(vec![0.0; 8], vec![0.0, 2.0])?;
    let mut trainer = Trainer::compile(
        model,
        Adam::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (metrics::MeanIoU::<4>::new()?,),
        &dev,
    )?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
