//! `keras.optimizers.Adam`.

use super::moments::{moment_setters, Moments};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// Adam in Keras's "epsilon hat" form: with `t = iterations + 1` and
/// `alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`,
/// `m += (g - m)(1 - beta_1)`, `v += (g² - v)(1 - beta_2)`, `w -= m * alpha / (sqrt(v) + eps)`
/// (`epsilon` is added to the uncorrected `sqrt(v)`; AMSGrad uses the running maximum of `v`).
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adam, FlatParams, Optimizer};
/// let mut opt = Adam::new().with_learning_rate(0.01).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 3.0;
/// opt.apply(&mut params).unwrap();
/// // The first Adam step moves every weight by about the learning rate.
/// assert!((params.values[0] + 0.01).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Adam {
    pub(crate) moments: Moments,
    pub(crate) amsgrad: bool,
}

impl Adam {
    /// Keras's `Adam.get_config()` keys of the rule itself.
    pub(crate) fn keras_keys(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("beta_1".into(), self.beta_1().into());
        m.insert("beta_2".into(), self.beta_2().into());
        m.insert("epsilon".into(), self.epsilon().into());
        m.insert("amsgrad".into(), self.amsgrad().into());
        m
    }

    /// A builder with Keras's defaults: learning rate `0.001`, betas `0.9`/`0.999`,
    /// epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<Adam> {
        OptimizerBuilder::new(Adam::default(), Adam::DEFAULT_LEARNING_RATE)
    }

    /// The first-moment decay rate.
    pub fn beta_1(&self) -> f64 {
        self.moments.beta_1
    }

    /// The second-moment decay rate.
    pub fn beta_2(&self) -> f64 {
        self.moments.beta_2
    }

    /// The epsilon added to `sqrt(v)`.
    pub fn epsilon(&self) -> f64 {
        self.moments.epsilon
    }

    /// Whether AMSGrad is used.
    pub fn amsgrad(&self) -> bool {
        self.amsgrad
    }
}

moment_setters!(
    Adam,
    moments,
    beta_2: "Decay rate of the second moment",
    epsilon: "Added to `sqrt(v)`"
);

impl<S> OptimizerBuilder<Adam, S> {
    /// Use the AMSGrad variant. Defaults to `false`.
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.rule.amsgrad = amsgrad;
        self
    }
}

/// Per-step values of [`Adam`].
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    alpha: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    epsilon: f32,
}

impl UpdateRule for Adam {
    const NAME: &'static str = "adam";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = AdamStep;

    fn validate(&self) -> Result<()> {
        self.moments.validate()
    }

    fn keras_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        Some(("Adam", self.keras_keys()))
    }

    fn keras_slot_groups(&self) -> Vec<&'static [&'static str]> {
        if self.amsgrad {
            vec![&["momentum", "velocity"], &["velocity_hat"]]
        } else {
            vec![&["momentum", "velocity"]]
        }
    }

    fn slot_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["momentum", "velocity", "velocity_hat"]
        } else {
            &["momentum", "velocity"]
        }
    }

    fn begin_step(&mut self, ctx: &StepContext) -> AdamStep {
        let t = (ctx.iterations + 1) as f32;
        let Moments {
            beta_1,
            beta_2,
            epsilon,
        } = self.moments;
        let beta_1_power = (beta_1 as f32).powf(t);
        let beta_2_power = (beta_2 as f32).powf(t);
        AdamStep {
            alpha: ctx.learning_rate * (1.0 - beta_2_power).sqrt() / (1.0 - beta_1_power),
            one_minus_beta_1: (1.0 - beta_1) as f32,
            one_minus_beta_2: (1.0 - beta_2) as f32,
            epsilon: epsilon as f32,
        }
    }

    fn device_update(&self, s: &AdamStep) -> Option<DeviceUpdate> {
        let flags = if self.amsgrad {
            DeviceUpdate::AMSGRAD
        } else {
            0
        };
        Some(DeviceUpdate::new(
            UpdateKernel::Adam,
            &[s.alpha, s.one_minus_beta_1, s.one_minus_beta_2, s.epsilon],
            flags,
        ))
    }

    fn update(&self, s: &AdamStep, _: &VarInfo, value: &mut [f32], grad: &[f32], slots: Slots<'_>) {
        let [m, v, v_hat, _] = slots;
        let (alpha, b1, b2, eps) = (s.alpha, s.one_minus_beta_1, s.one_minus_beta_2, s.epsilon);
        if self.amsgrad {
            let moments = m.iter_mut().zip(v.iter_mut()).zip(v_hat.iter_mut());
            for ((w, &g), ((m, v), v_hat)) in value.iter_mut().zip(grad).zip(moments) {
                *m += (g - *m) * b1;
                *v += (g * g - *v) * b2;
                *v_hat = v_hat.max(*v);
                *w -= *m * alpha / (v_hat.sqrt() + eps);
            }
            return;
        }
        fused_step(s, value, grad, m, v);
    }
}

/// One fused pass of Adam (without AMSGrad) over a variable. On x86-64 CPUs with AVX the same
/// loop is compiled for 8-wide vectors (IEEE `sqrt`/`div`, no FMA: the same bits as the
/// portable path, about 1.5x faster as the loop is bound by division and square-root
/// throughput).
fn fused_step(s: &AdamStep, value: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked just above), the only requirement of
            // calling a `#[target_feature(enable = "avx")]` function.
            unsafe { fused_step_avx(s, value, grad, m, v) };
            return;
        }
    }
    fused_loop(s, value, grad, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn fused_step_avx(s: &AdamStep, value: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    fused_loop(s, value, grad, m, v);
}

#[inline(always)]
fn fused_loop(s: &AdamStep, value: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    let (alpha, b1, b2, eps) = (s.alpha, s.one_minus_beta_1, s.one_minus_beta_2, s.epsilon);
    let n = value.len();
    let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let g = grad[i];
        let mi = m[i] + (g - m[i]) * b1;
        let vi = v[i] + (g * g - v[i]) * b2;
        m[i] = mi;
        v[i] = vi;
        value[i] -= mi * alpha / (vi.sqrt() + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{FlatParams, Optimizer};
    use crate::Error;

    #[test]
    fn betas_outside_the_unit_interval_and_non_positive_epsilon_are_rejected() {
        for b in [-0.1, 1.0, f64::NAN] {
            assert!(matches!(
                Adam::new().with_beta_1(b).build(),
                Err(Error::InvalidArgument { name: "beta_1", .. })
            ));
            assert!(Adam::new().with_beta_2(b).build().is_err());
        }
        for eps in [0.0, -1e-7] {
            assert!(matches!(
                Adam::new().with_epsilon(eps).build(),
                Err(Error::InvalidArgument {
                    name: "epsilon",
                    ..
                })
            ));
        }
    }

    #[test]
    fn the_vectorised_and_portable_loops_agree_bit_for_bit() {
        let mut opt = Adam::new().build().unwrap();
        let s = opt.rule.begin_step(&StepContext {
            learning_rate: 0.01,
            iterations: 3,
            scheduled: false,
        });
        let n = 1000;
        let grad: Vec<f32> = (0..n).map(|i| (i as f32 * 0.7).sin() * 3.0).collect();
        let init: Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).cos()).collect();
        let (mut w1, mut m1, mut v1) = (init.clone(), init.clone(), vec![0.5; n]);
        let (mut w2, mut m2, mut v2) = (w1.clone(), m1.clone(), v1.clone());
        fused_step(&s, &mut w1, &grad, &mut m1, &mut v1);
        fused_loop(&s, &mut w2, &grad, &mut m2, &mut v2);
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w1), bits(&w2));
        assert_eq!(bits(&m1), bits(&m2));
        assert_eq!(bits(&v1), bits(&v2));
    }

    #[test]
    fn amsgrad_keeps_the_largest_second_moment() {
        let mut opt = Adam::new().with_amsgrad(true).build().unwrap();
        let mut p = FlatParams::from_layout([("w", &[1][..])]);
        p.grads[0] = 2.0;
        opt.apply(&mut p).unwrap();
        p.grads[0] = 0.0;
        opt.apply(&mut p).unwrap();
        let v = opt.slot("velocity").unwrap()[0];
        let v_hat = opt.slot("velocity_hat").unwrap()[0];
        assert!(v_hat > v);
        assert!((v_hat - 0.004).abs() < 1e-9);
    }
}
