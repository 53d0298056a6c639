//! The stages of Keras's `apply` around the update rule: gradient preparation (loss-scale
//! undo, accumulation, clipping), decoupled weight decay and the EMA.

use super::base_options::BaseOptions;
use super::buffers::Buffers;
use super::clipping::Clipping;
use super::VarInfo;
use crate::kernels::{Accumulate, Decay, Ema};

/// Unscales the gradients of the variables that have one into `b.work`, accumulates them when
/// gradient accumulation is on and clips them on update steps. Returns whether this call
/// updates the variables (always, without accumulation; every `steps`-th call with it, `raw`
/// being the number of earlier calls).
pub(crate) fn prepare_gradients(
    options: &BaseOptions,
    clipping: Clipping,
    raw: u64,
    grads: &[f32],
    vars: &[VarInfo],
    b: &mut Buffers,
) -> bool {
    let present = || vars.iter().filter(|v| v.has_grad);
    let scale = options.loss_scale_factor.map(|s| s as f32);
    for v in present() {
        let (src, dst) = (&grads[v.range()], &mut b.work[v.range()]);
        match scale {
            Some(s) => dst.iter_mut().zip(src).for_each(|(d, &g)| *d = g / s),
            None => dst.copy_from_slice(src),
        }
    }
    let mut is_update_step = true;
    if let Some(steps) = options.gradient_accumulation_steps {
        is_update_step = (raw + 1).is_multiple_of(steps);
        let accumulate = Accumulate {
            steps: steps as f32,
            update: is_update_step,
        };
        for v in present() {
            accumulate.apply(&mut b.work[v.range()], &mut b.accumulator[v.range()]);
        }
    }
    if is_update_step {
        clipping.apply(&mut b.work, vars);
    }
    is_update_step
}

/// Decoupled weight decay, `var - var * wd * lr`, on the variables that have a gradient and
/// are not excluded by name.
pub(crate) fn apply_weight_decay(
    options: &BaseOptions,
    lr: f32,
    values: &mut [f32],
    vars: &[VarInfo],
) {
    let Some(wd) = options.weight_decay else {
        return;
    };
    let decay = Decay {
        weight_decay: wd as f32,
        learning_rate: lr,
    };
    for v in vars
        .iter()
        .filter(|v| v.has_grad && options.decays(&v.name))
    {
        decay.apply(&mut values[v.range()]);
    }
}

/// Keras's `_update_model_variables_moving_average` and the periodic overwrite; `iterations`
/// is Keras's `optimizer.iterations` before this call's increment.
pub(crate) fn update_ema(
    options: &BaseOptions,
    iterations: u64,
    values: &mut [f32],
    ema: &mut [f32],
) {
    if !options.use_ema {
        return;
    }
    Ema::at(
        iterations,
        options.ema_momentum,
        options.ema_overwrite_frequency,
    )
    .apply(values, ema);
}

#[cfg(test)]
mod tests {
    use crate::optimizers::{FlatParams, Optimizer, Sgd};

    fn two_vars() -> FlatParams {
        let mut p = FlatParams::from_layout([("kernel", &[2][..]), ("bias", &[1][..])]);
        p.grads.copy_from_slice(&[1.0, 2.0, 3.0]);
        p
    }

    #[test]
    fn gradients_are_divided_by_the_loss_scale_factor() {
        let mut opt = Sgd::new()
            .with_learning_rate(1.0)
            .with_loss_scale_factor(4.0)
            .build()
            .unwrap();
        assert_eq!(opt.loss_scale(), 4.0);
        let mut p = two_vars();
        opt.apply(&mut p).unwrap();
        assert_eq!(p.values, [-0.25, -0.5, -0.75]);
        assert_eq!(
            p.grads,
            [1.0, 2.0, 3.0],
            "the caller's gradients are left alone"
        );
    }

    #[test]
    fn accumulation_updates_every_n_calls_with_the_mean_gradient() {
        let mut opt = Sgd::new()
            .with_learning_rate(1.0)
            .with_gradient_accumulation_steps(2)
            .build()
            .unwrap();
        let mut p = two_vars();
        opt.apply(&mut p).unwrap();
        assert_eq!(p.values, [0.0; 3]);
        assert_eq!((opt.iterations(), opt.raw_iterations()), (0, 1));
        p.grads.copy_from_slice(&[3.0, 0.0, 1.0]);
        opt.apply(&mut p).unwrap();
        assert_eq!(p.values, [-2.0, -1.0, -2.0]);
        assert_eq!(opt.iterations(), 1);
    }

    #[test]
    fn finalize_copies_the_moving_average_into_the_variables() {
        let mut opt = Sgd::new()
            .with_learning_rate(1.0)
            .with_ema(0.5)
            .build()
            .unwrap();
        let mut p = two_vars();
        opt.apply(&mut p).unwrap(); // ema = values (first step copies)
        opt.apply(&mut p).unwrap(); // values -2, -4, -6; ema = 0.5 * (-1) + 0.5 * (-2) ...
        assert_eq!(opt.moving_average().unwrap(), &[-1.5, -3.0, -4.5]);
        opt.finalize(&mut p);
        assert_eq!(p.values, [-1.5, -3.0, -4.5]);
    }

    #[test]
    fn ema_overwrite_replaces_the_variables_every_frequency_steps() {
        let mut opt = Sgd::new()
            .with_learning_rate(1.0)
            .with_ema(0.5)
            .with_ema_overwrite_frequency(2)
            .build()
            .unwrap();
        let mut p = two_vars();
        opt.apply(&mut p).unwrap();
        assert_eq!(p.values, [-1.0, -2.0, -3.0]);
        opt.apply(&mut p).unwrap();
        assert_eq!(
            p.values,
            [-1.5, -3.0, -4.5],
            "second call: overwritten by the average"
        );
    }

    #[test]
    fn excluded_variables_get_no_weight_decay() {
        let mut opt = Sgd::new()
            .with_learning_rate(0.5)
            .with_weight_decay(0.2)
            .with_exclude_from_weight_decay(["bias"])
            .build()
            .unwrap();
        let mut p = FlatParams::from_layout([("kernel", &[1][..]), ("bias", &[1][..])]);
        p.values.copy_from_slice(&[1.0, 1.0]);
        opt.apply(&mut p).unwrap();
        assert_eq!(p.values, [0.9, 1.0]);
    }
}
