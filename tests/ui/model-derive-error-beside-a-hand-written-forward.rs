// Checks that a `#[derive(Model)]` error (a non-layer field without `#[layer(skip)]`) is the only
// error of a program whose forward pass is written by hand, and that builds and trains the model:
// the derive's inert impls after an error leave the user's `Module`/`ModuleMut` alone.
use keras::dfdx::tensor::Tape;
use keras::prelude::*;

#[derive(Model)]
struct Block<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    out: Dense<16, 3, Linear, E, D>,
    label: String,
}

type Batch<const N: usize, E, D, T> = Tensor<(usize, Const<N>), E, D, T>;

impl<E: Dtype, D: DenseKernel<E>, T: Tape<E, D>> Module<Batch<4, E, D, T>> for Block<E, D> {
    type Output = Batch<3, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Batch<4, E, D, T>) -> Result<Self::Output, D::Err> {
        self.out.try_forward(self.hidden.try_forward(x)?)
    }
}

impl<E: Dtype, D: DenseKernel<E>, T: Tape<E, D>> ModuleMut<Batch<4, E, D, T>> for Block<E, D> {
    type Output = Batch<3, E, D, T>;
    type Error = D::Err;

    fn try_forward_mut(&mut self, x: Batch<4, E, D, T>) -> Result<Self::Output, D::Err> {
        self.try_forward(x)
    }
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Block::<f32, Cpu>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(vec![0.0; 4], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
