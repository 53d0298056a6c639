// Checks that a 3-layer `#[derive(Sequential)]` MLP builds, counts its parameters, and runs the
// inference and training forward passes on batches of several sizes.
use keras::dfdx::shapes::HasShape;
use keras::dfdx::tensor::{SampleTensor, Trace};
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    input: Dense<4, 16, ReLU, E, D>,
    hidden: Dense<16, 8, Tanh, E, D>,
    dropout: Dropout,
    out: Dense<8, 3, Softmax, E, D>,
}

fn main() {
    let dev = Cpu::seed_from_u64(0);
    let mut model = Mlp::<f32, Cpu>::build(&dev);
    assert_eq!(
        model.num_trainable_params(),
        (4 * 16 + 16) + (16 * 8 + 8) + (8 * 3 + 3)
    );
    for batch in [1usize, 5, 32] {
        let x: Tensor<(usize, Const<4>), f32, Cpu> = dev.sample_normal_like(&(batch, Const));
        let y = model.forward(x.clone());
        assert_eq!(y.shape().0, batch);
        // Softmax rows sum to one.
        for row in y.as_vec().chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        let grads = model.alloc_grads();
        let y = model.forward_mut(x.traced(grads));
        assert_eq!(y.shape().0, batch);
    }
}
