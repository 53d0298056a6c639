// Checks that a layer written with its dtype and device before its sizes (`Dense<E, D, 784,
// 256>`) is first reported by the derive with the layer's parameter order, instead of only by
// rustc's "surround it with braces" hint.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<E, D, 784, 256>,
    out: Dense<256, 10, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Mlp::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<784>, Sparse>::new(vec![0.0; 784], vec![0.0])?;
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
