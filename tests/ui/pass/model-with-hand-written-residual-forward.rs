// Checks that `#[derive(Model)]` gives a struct its parameters (build, count) while its forward
// pass is written by hand: here a residual block `x + out(hidden(x))`, generic over the tape, so
// it runs for inference and trains with `Trainer::fit`. Generic over the device too: `Dense`'s
// forward asks the device for its product kernel, `D: DenseKernel<E>` (`Cpu` and `Cuda` in `f32`
// and `f64`).
use keras::dfdx::tensor::TensorFromVec;
use keras::dfdx::tensor::{Tape, WithEmptyTape};
use keras::dfdx::tensor_ops::TryAdd;
use keras::prelude::*;

#[derive(Model)]
struct ResidualBlock<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    out: Dense<16, 4, Linear, E, D>,
}

type Batch<E, D, T> = Tensor<(usize, Const<4>), E, D, T>;

impl<E: Dtype, D: DenseKernel<E>, T: Tape<E, D>> Module<Batch<E, D, T>> for ResidualBlock<E, D> {
    type Output = Batch<E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Batch<E, D, T>) -> Result<Self::Output, D::Err> {
        let skip = x.with_empty_tape();
        let h = self.hidden.try_forward(x)?;
        self.out.try_forward(h)?.try_add(skip)
    }
}

impl<E: Dtype, D: DenseKernel<E>, T: Tape<E, D>> ModuleMut<Batch<E, D, T>> for ResidualBlock<E, D> {
    type Output = Batch<E, D, T>;
    type Error = D::Err;

    fn try_forward_mut(&mut self, x: Batch<E, D, T>) -> Result<Self::Output, D::Err> {
        self.try_forward(x)
    }
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let mut model = ResidualBlock::<f32, Cpu>::build(&dev);
    assert_eq!(model.num_trainable_params(), (4 * 16 + 16) + (16 * 4 + 4));

    // With a zero `out` layer the block is the identity.
    model.out.set_weights(&[0.0; 64], &[0.0; 4])?;
    let x = dev.tensor_from_vec(
        vec![1.0f32, -2.0, 3.0, 0.5, 0.0, 1.0, 2.0, 3.0],
        (2usize, Const::<4>),
    );
    assert_eq!(model.forward(x.clone()).as_vec(), x.as_vec());

    let y: Vec<f32> = (0..8).map(|i| i as f32 / 8.0).collect();
    let data = ArrayDataset::<Rank1<4>, DenseTarget<4>>::new(x.as_vec(), y)?;
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().with_learning_rate(0.01).build()?,
        losses::MeanSquaredError::default(),
        (metrics::MeanAbsoluteError::default(),),
        &dev,
    )?;
    let history = trainer
        .fit(&data)
        .epochs(2)
        .batch_size(2)
        .verbose(0)
        .run()?;
    assert_eq!(history.get("loss").map(|l| l.len()), Some(2));
    assert_eq!(history.get("mae").map(|l| l.len()), Some(2));
    Ok(())
}
