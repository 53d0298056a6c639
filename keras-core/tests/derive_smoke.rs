use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;
use keras_core::Sequential;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Linear<4, 8, E, D>,
    act: ReLU,
    out: Linear<8, 3, E, D>,
}

#[test]
fn derived_model_builds_and_runs_forward() {
    let dev = Cpu::default();
    let mut m = Mlp::<f32, Cpu>::build(&dev);
    assert_eq!(m.num_trainable_params(), 4 * 8 + 8 + 8 * 3 + 3);
    let x: Tensor<(usize, Const<4>), f32, Cpu> = dev.sample_normal_like(&(5, Const));
    let y = m.forward(x.clone());
    assert_eq!(y.shape().0, 5);
    let g = m.alloc_grads();
    let y2 = m.forward_mut(x.traced(g));
    assert_eq!(y2.shape().0, 5);
}
