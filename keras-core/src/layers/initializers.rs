//! Keras's weight initialisers as functions over dfdx tensors.
//!
//! Each `fn(&mut Tensor<S, E, D>) -> Result<(), D::Err>` here can be handed to dfdx's
//! [`TensorOptions::reset_with`](dfdx::nn::tensor_collection::TensorOptions::reset_with), which
//! is how every layer of this module initialises its parameters. They draw from the tensor's
//! device RNG, so `Cpu::seed_from_u64(seed)` makes a build reproducible.
//!
//! Fans follow Keras's `compute_fans`: a rank-2 shape `[in, out]` has `fan_in = in`,
//! `fan_out = out`; a convolution kernel `[kh, kw, in, out]` multiplies both by `kh * kw`; a
//! rank-1 shape `[n]` has both fans `n`.
//!
//! # Examples
//! ```
//! use keras_core::dfdx::prelude::*;
//! use keras_core::layers::initializers;
//!
//! let dev = Cpu::seed_from_u64(0);
//! let mut kernel: Tensor<Rank2<4, 8>, f32, Cpu> = dev.zeros();
//! initializers::glorot_uniform(&mut kernel).unwrap();
//! let limit = (6.0f32 / 12.0).sqrt();
//! assert!(kernel.as_vec().iter().all(|w| w.abs() <= limit));
//! ```

use dfdx::shapes::{Dtype, HasShape, Shape};
use dfdx::tensor::Tensor;
use dfdx::tensor_ops::Device;
use num_traits::Float;
use rand::Rng;
use rand_distr::uniform::SampleUniform;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// Keras's `0.87962566103423978`: the standard deviation of a unit normal truncated at ±2, used to
/// rescale truncated-normal variance-scaling initialisers.
const TRUNCATION_STDDEV: f64 = 0.879_625_661_034_239_8;

/// `(fan_in, fan_out)` of a shape, as Keras's `compute_fans`.
pub fn compute_fans<S: Shape>(shape: &S) -> (usize, usize) {
    let dims = shape.concrete();
    let rank = S::NUM_DIMS;
    match rank {
        0 => (1, 1),
        1 => (dims[0], dims[0]),
        2 => (dims[0], dims[1]),
        _ => {
            let receptive: usize = (0..rank - 2).map(|i| dims[i]).product();
            (dims[rank - 2] * receptive, dims[rank - 1] * receptive)
        }
    }
}

/// A normal distribution truncated to `mean ± 2 * stddev` (values outside are redrawn), as
/// Keras's `TruncatedNormal`.
///
/// # Examples
/// ```
/// use keras_core::layers::initializers::TruncatedNormal;
/// use rand::{rngs::StdRng, Rng, SeedableRng};
///
/// let d = TruncatedNormal { mean: 0.0, stddev: 1.0 };
/// let mut rng = StdRng::seed_from_u64(0);
/// let x: f64 = rng.sample(d);
/// assert!(x.abs() <= 2.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TruncatedNormal {
    /// Mean of the distribution.
    pub mean: f64,
    /// Standard deviation before truncation.
    pub stddev: f64,
}

impl<E: Float> Distribution<E> for TruncatedNormal {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> E {
        loop {
            let z: f64 = rng.sample(StandardNormal);
            if z.abs() <= 2.0 {
                return E::from(self.mean + self.stddev * z).unwrap_or_else(E::zero);
            }
        }
    }
}

/// Converts an `f64` hyperparameter to the dtype `E` (exact for `f32`/`f64` up to rounding).
pub(crate) fn cast<E: Float>(v: f64) -> E {
    E::from(v).unwrap_or_else(E::zero)
}

/// Fills `t` from `uniform(minval, maxval)`.
pub fn fill_uniform<S, E, D>(
    t: &mut Tensor<S, E, D>,
    minval: f64,
    maxval: f64,
) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    t.try_fill_with_distr(Uniform::new_inclusive(cast::<E>(minval), cast::<E>(maxval)))
}

/// Fills `t` from a normal distribution truncated at two standard deviations.
pub fn fill_truncated_normal<S, E, D>(
    t: &mut Tensor<S, E, D>,
    mean: f64,
    stddev: f64,
) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float,
    D: Device<E>,
{
    t.try_fill_with_distr(TruncatedNormal { mean, stddev })
}

/// Fills `t` by Keras's `VarianceScaling(scale, mode, "uniform")` given the chosen fan.
fn variance_scaling_uniform<S, E, D>(
    t: &mut Tensor<S, E, D>,
    scale: f64,
    fan: usize,
) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    let limit = (3.0 * scale / fan.max(1) as f64).sqrt();
    fill_uniform(t, -limit, limit)
}

/// Fills `t` by Keras's `VarianceScaling(scale, mode, "truncated_normal")` given the chosen fan.
fn variance_scaling_normal<S, E, D>(
    t: &mut Tensor<S, E, D>,
    scale: f64,
    fan: f64,
) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float,
    D: Device<E>,
{
    let stddev = (scale / fan.max(1.0)).sqrt() / TRUNCATION_STDDEV;
    fill_truncated_normal(t, 0.0, stddev)
}

/// Keras's `GlorotUniform`: `uniform(-limit, limit)` with `limit = sqrt(6 / (fan_in + fan_out))`.
/// The default kernel initialiser of `Dense` and `Conv2D`.
pub fn glorot_uniform<S, E, D>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    let (fan_in, fan_out) = compute_fans(t.shape());
    let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    fill_uniform(t, -limit, limit)
}

/// Keras's `GlorotNormal`: truncated normal with `stddev = sqrt(2 / (fan_in + fan_out)) / 0.8796...`.
pub fn glorot_normal<S, E, D>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float,
    D: Device<E>,
{
    let (fan_in, fan_out) = compute_fans(t.shape());
    variance_scaling_normal(t, 1.0, (fan_in + fan_out) as f64 / 2.0)
}

/// Keras's `HeUniform`: `uniform(-limit, limit)` with `limit = sqrt(6 / fan_in)`.
pub fn he_uniform<S, E, D>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    let (fan_in, _) = compute_fans(t.shape());
    variance_scaling_uniform(t, 2.0, fan_in)
}

/// Keras's `HeNormal`: truncated normal with `stddev = sqrt(2 / fan_in) / 0.8796...`.
pub fn he_normal<S, E, D>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float,
    D: Device<E>,
{
    let (fan_in, _) = compute_fans(t.shape());
    variance_scaling_normal(t, 2.0, fan_in as f64)
}

/// Keras's `Zeros`. The default bias initialiser.
pub fn zeros<S: Shape, E: Dtype, D: Device<E>>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err> {
    t.try_fill_with_zeros()
}

/// Keras's `Ones`.
pub fn ones<S: Shape, E: Dtype, D: Device<E>>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err> {
    t.try_fill_with_ones()
}

/// Keras's `RandomUniform()` with its defaults `minval = -0.05`, `maxval = 0.05` (the
/// `Embedding` initialiser). Use [`fill_uniform`] in a closure for other bounds.
pub fn uniform<S, E, D>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    fill_uniform(t, -0.05, 0.05)
}

/// Keras's `TruncatedNormal()` with its defaults `mean = 0`, `stddev = 0.05`. Use
/// [`fill_truncated_normal`] in a closure for other parameters.
pub fn truncated_normal<S, E, D>(t: &mut Tensor<S, E, D>) -> Result<(), D::Err>
where
    S: Shape,
    E: Dtype + Float,
    D: Device<E>,
{
    fill_truncated_normal(t, 0.0, 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::*;

    fn moments(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn fans_follow_keras_for_dense_and_conv_kernels() {
        assert_eq!(compute_fans(&(Const::<4>, Const::<8>)), (4, 8));
        assert_eq!(
            compute_fans(&(Const::<3>, Const::<3>, Const::<2>, Const::<5>)),
            (18, 45)
        );
        assert_eq!(compute_fans(&(Const::<7>,)), (7, 7));
        assert_eq!(compute_fans(&()), (1, 1));
    }

    #[test]
    fn glorot_uniform_stays_within_its_limit_and_fills_it() {
        let dev = Cpu::seed_from_u64(1);
        let mut t: Tensor<Rank2<100, 50>, f64, Cpu> = dev.zeros();
        glorot_uniform(&mut t).unwrap();
        let limit = (6.0f64 / 150.0).sqrt();
        let v = t.as_vec();
        assert!(v.iter().all(|x| x.abs() <= limit));
        let (mean, var) = moments(&v);
        assert!(mean.abs() < 0.01);
        assert!((var - limit * limit / 3.0).abs() < 0.1 * limit * limit / 3.0);
    }

    #[test]
    fn he_normal_has_keras_variance_and_truncation() {
        let dev = Cpu::seed_from_u64(2);
        let mut t: Tensor<Rank2<200, 100>, f64, Cpu> = dev.zeros();
        he_normal(&mut t).unwrap();
        let stddev = (2.0f64 / 200.0).sqrt();
        let v = t.as_vec();
        let bound = 2.0 * stddev / TRUNCATION_STDDEV;
        assert!(v.iter().all(|x| x.abs() <= bound + 1e-12));
        let (mean, var) = moments(&v);
        assert!(mean.abs() < 0.01 * stddev * 10.0);
        assert!((var.sqrt() - stddev).abs() < 0.05 * stddev);
    }

    #[test]
    fn glorot_normal_and_he_uniform_have_keras_variance() {
        let dev = Cpu::seed_from_u64(3);
        let mut t: Tensor<Rank2<300, 100>, f64, Cpu> = dev.zeros();
        glorot_normal(&mut t).unwrap();
        let (_, var) = moments(&t.as_vec());
        assert!((var.sqrt() - (2.0f64 / 400.0).sqrt()).abs() < 0.05 * (2.0f64 / 400.0).sqrt());
        he_uniform(&mut t).unwrap();
        let limit = (6.0f64 / 300.0).sqrt();
        let v = t.as_vec();
        assert!(v.iter().all(|x| x.abs() <= limit));
        let (_, var) = moments(&v);
        assert!((var - limit * limit / 3.0).abs() < 0.1 * limit * limit / 3.0);
    }

    #[test]
    fn constant_and_default_random_initialisers_match_keras_defaults() {
        let dev = Cpu::seed_from_u64(4);
        let mut t: Tensor<Rank1<1000>, f32, Cpu> = dev.ones();
        zeros(&mut t).unwrap();
        assert!(t.as_vec().iter().all(|&x| x == 0.0));
        ones(&mut t).unwrap();
        assert!(t.as_vec().iter().all(|&x| x == 1.0));
        uniform(&mut t).unwrap();
        assert!(t.as_vec().iter().all(|&x| x.abs() <= 0.05));
        truncated_normal(&mut t).unwrap();
        assert!(t.as_vec().iter().all(|&x| x.abs() <= 0.1));
        assert!(t.as_vec().iter().any(|&x| x.abs() > 0.05));
    }

    #[test]
    fn same_seed_draws_the_same_weights_and_other_seeds_differ() {
        let draw = |seed| {
            let dev = Cpu::seed_from_u64(seed);
            let mut t: Tensor<Rank2<4, 8>, f32, Cpu> = dev.zeros();
            glorot_uniform(&mut t).unwrap();
            t.as_vec()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
