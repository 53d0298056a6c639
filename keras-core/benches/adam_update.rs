//! Adam update of ~1M parameters: keras-rs's fused host update on `FlatParams` vs dfdx's
//! `Adam` on an equivalent `Linear<1024, 1024>` (1,049,600 parameters), same gradients.
//!
//! Run with `cargo bench -p keras-core --bench adam_update`.

use std::time::{Duration, Instant};

use dfdx::optim::{Adam as DfdxAdam, AdamConfig, Optimizer as _};
use dfdx::prelude::*;
use keras_core::optimizers::{Adam, FlatParams, Optimizer};

const WARMUP: usize = 5;
const ROUNDS: usize = 15;
const STEPS_PER_ROUND: usize = 10;

/// Mean time per call of `f` over one round.
fn round(f: &mut impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..STEPS_PER_ROUND {
        f();
    }
    start.elapsed() / STEPS_PER_ROUND as u32
}

/// Times `a` and `b` in alternating rounds (so load from other processes hits both alike);
/// returns the per-call (minimum, median) of each.
fn interleaved(
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> ((Duration, Duration), (Duration, Duration)) {
    for _ in 0..WARMUP {
        a();
        b();
    }
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ta.push(round(&mut a));
        tb.push(round(&mut b));
    }
    ta.sort();
    tb.sort();
    ((ta[0], ta[ROUNDS / 2]), (tb[0], tb[ROUNDS / 2]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let dev: Cpu = Default::default();
    dev.enable_cache();
    let mut model = dev.build_module::<Linear<1024, 1024>, f32>();

    // Real gradients from one forward/backward pass.
    let x: Tensor<Rank2<16, 1024>, f32, _> = dev.sample_normal();
    let grads = model.alloc_grads();
    let loss = model.forward(x.traced(grads)).square().mean();
    let grads = loss.backward();
    let weight_grad = grads.get(&model.weight).as_vec();
    let bias_grad = grads.get(&model.bias).as_vec();

    // keras-rs: the same parameters and gradients in flat buffers.
    let mut params =
        FlatParams::from_layout([("weight", &[1024, 1024][..]), ("bias", &[1024][..])]);
    let (w_len, n) = (weight_grad.len(), params.len());
    params.values[..w_len].copy_from_slice(&model.weight.as_vec());
    params.values[w_len..].copy_from_slice(&model.bias.as_vec());
    params.grads[..w_len].copy_from_slice(&weight_grad);
    params.grads[w_len..].copy_from_slice(&bias_grad);
    let mut ours = Adam::new()
        .with_learning_rate(1e-3)
        .build()
        .expect("valid Adam");
    let mut theirs = DfdxAdam::new(
        &model,
        AdamConfig {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-7,
            weight_decay: None,
        },
    );
    let ((keras_min, keras_med), (dfdx_min, dfdx_med)) = interleaved(
        || ours.apply(&mut params).expect("apply"),
        || theirs.update(&mut model, &grads).expect("dfdx update"),
    );

    println!(
        "Adam update of {n} parameters ({ROUNDS} alternating rounds x {STEPS_PER_ROUND} steps)"
    );
    println!("                                               min ms/step  median ms/step");
    println!(
        "  keras-rs KerasOptimizer<Adam> on FlatParams: {:>10.3}  {:>14.3}",
        ms(keras_min),
        ms(keras_med)
    );
    println!(
        "  dfdx::optim::Adam on Linear<1024, 1024>:     {:>10.3}  {:>14.3}",
        ms(dfdx_min),
        ms(dfdx_med)
    );
    println!(
        "  ratio dfdx / keras-rs: {:.2}x (min), {:.2}x (median)",
        dfdx_min.as_secs_f64() / keras_min.as_secs_f64(),
        dfdx_med.as_secs_f64() / keras_med.as_secs_f64()
    );
}
