//! Keras's `Normalization` layer (axis -1): standardises features with a mean and a variance
//! learned from data by [`Normalization::adapt`], or given.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, ModuleMut};
use dfdx::shapes::{Const, Dim, Dtype, HasShape};
use dfdx::shapes::{Rank1, Shape};
use dfdx::tensor::{Cpu, Storage, Tape, Tensor};
use dfdx::tensor_ops::{Device, ReshapeTo};

use super::initializers::{ones, zeros};
use super::weights::{check_len, copy_f32};
use crate::data::{Dataset, SampleShape};
use crate::kernels::normalize::{try_normalize, NormalizeKernel};
use crate::target::Target;
use crate::{Error, Result};

/// Keras's `Normalization()` over the last axis of `C` features: `(x - mean) / max(sqrt(var),
/// 1e-7)`, or with `INVERT` (Keras's `invert=True`) the inverse, `x * max(sqrt(var), 1e-7) +
/// mean`, with a per-feature `mean` and `variance`.
///
/// The statistics are not trainable (`num_trainable_params() == 0`; they are saved with the
/// model's non-trainable state, as BatchNormalization's moving statistics): learn them from
/// data with [`adapt`](Normalization::adapt) (Keras's population mean and variance over every
/// sample and position), or set them with [`set_weights`](Normalization::set_weights) (Keras's
/// `mean=`/`variance=` arguments). A freshly built layer has mean 0 and variance 1, the
/// identity. Training and inference forwards are the same. Inputs `(batch, C)`, `(batch, steps,
/// C)` or channels-last images `(batch, H, W, C)`.
///
/// `INVERT` is part of the type, so it survives `build`, `to_device` and loading.
///
/// The arithmetic is one op per device ([`NormalizeKernel`]; in `f32` one kernel each way on
/// `Cuda`). The statistics are constants: they get no gradient. As a model's first layer it
/// gives the data batch none either, so its backward costs nothing.
///
/// # Examples
/// ```
/// use keras_core::data::ArrayDataset;
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Normalization;
///
/// let dev = Cpu::default();
/// let mut norm = dev.build_module::<Normalization<2>, f32>();
/// let data = ArrayDataset::<Rank1<2>, _>::features(vec![0.0, 10.0, 2.0, 30.0])?;
/// norm.adapt(&data)?;
/// assert_eq!(norm.mean.array(), [1.0, 20.0]);
/// assert_eq!(norm.variance.array(), [1.0, 100.0]);
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![3.0, 0.0], (1, Const));
/// assert_eq!(norm.forward(x).as_vec(), [2.0, -2.0]);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Normalization<
    const C: usize,
    E: Dtype = f32,
    D: Storage<E> = Cpu,
    const INVERT: bool = false,
> {
    /// Per-feature mean, not trainable. Starts at zeros.
    pub mean: Tensor<Rank1<C>, E, D>,
    /// Per-feature (population) variance, not trainable. Starts at ones.
    pub variance: Tensor<Rank1<C>, E, D>,
}

impl<const C: usize, E: Dtype, D: Device<E>, const INVERT: bool> Normalization<C, E, D, INVERT> {
    /// Sets the statistics (Keras's `mean=` and `variance=`), each `[C]`; a negative or
    /// non-finite variance, or lengths other than `C`, are errors and nothing is written.
    pub fn set_weights(&mut self, mean: &[f32], variance: &[f32]) -> Result<()> {
        let layout = format!("[{C}]");
        check_len(&self.mean, "mean", &layout, mean)?;
        check_len(&self.variance, "variance", &layout, variance)?;
        if let Some((i, v)) = variance
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(Error::invalid(
                "variance",
                format!("feature {i} has variance {v}; variances must be finite and >= 0"),
            ));
        }
        if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
            return Err(Error::invalid(
                "mean",
                format!("feature {i} has mean {}; means must be finite", mean[i]),
            ));
        }
        copy_f32(&mut self.mean, mean);
        copy_f32(&mut self.variance, variance);
        Ok(())
    }

    /// Learns the mean and the population variance of each of the `C` features from every
    /// sample of `data` (each sample of `S::NUMEL` values holds `S::NUMEL / C` rows of `C`
    /// features), as Keras's `adapt`; the sums run in `f64`. Errors: no sample
    /// ([`Error::EmptyData`]), samples that are not whole rows of `C` features
    /// ([`Error::ShapeMismatch`]), a NaN or infinite feature value ([`Error::InvalidArgument`]
    /// naming the sample); the layer is unchanged on error.
    pub fn adapt<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized>(
        &mut self,
        data: &Ds,
    ) -> Result<()> {
        if C == 0 || S::NUMEL % C != 0 {
            return Err(Error::ShapeMismatch {
                name: "adapt data",
                expected: format!("samples whose last axis has {C} features"),
                got: format!("samples of {} values", S::NUMEL),
            });
        }
        if data.is_empty() {
            return Err(Error::EmptyData {
                name: "adapt data",
                reason: "Normalization.adapt needs at least one sample".into(),
            });
        }
        let (mut x, mut y) = (Vec::with_capacity(S::NUMEL), Vec::new());
        let mut sum = vec![0.0f64; C];
        let mut rows = 0usize;
        for i in 0..data.len() {
            x.clear();
            y.clear();
            data.append_sample(i, &mut x, &mut y)?;
            if let Some(v) = x.iter().find(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    "adapt data",
                    format!("sample {} holds {v}", data.source_index(i)),
                ));
            }
            for row in x.chunks_exact(C) {
                for (s, &v) in sum.iter_mut().zip(row) {
                    *s += f64::from(v);
                }
                rows += 1;
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / rows as f64).collect();
        let mut squares = vec![0.0f64; C];
        for i in 0..data.len() {
            x.clear();
            y.clear();
            data.append_sample(i, &mut x, &mut y)?;
            for row in x.chunks_exact(C) {
                for ((q, &v), m) in squares.iter_mut().zip(row).zip(&mean) {
                    let d = f64::from(v) - m;
                    *q += d * d;
                }
            }
        }
        let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let variance: Vec<f32> = squares.iter().map(|q| (q / rows as f64) as f32).collect();
        self.set_weights(&mean, &variance)
    }

    /// The forward pass on any input whose last axis is the `C` features: its rows of `C`
    /// features through [`NormalizeKernel`], reshaped there and back (no copy of a row-major
    /// input).
    fn apply<S: Shape, T: Tape<E, D>>(
        &self,
        x: Tensor<S, E, D, T>,
    ) -> Result<Tensor<S, E, D, T>, D::Err>
    where
        D: NormalizeKernel<E>,
    {
        let shape = *x.shape();
        let rows = shape.num_elements().checked_div(C).unwrap_or(0);
        let rows = x.try_reshape_like(&(rows, Const::<C>))?;
        try_normalize::<C, INVERT, E, D, T>(rows, &self.mean, &self.variance)?
            .try_reshape_like(&shape)
    }
}

impl<const C: usize, E1: Dtype, D1: Storage<E1>, E: Dtype, D: Device<E>, const INVERT: bool>
    BuildOnDevice<D, E> for Normalization<C, E1, D1, INVERT>
where
    Normalization<C, E, D, INVERT>: BuildModule<D, E>,
{
    type Built = Normalization<C, E, D, INVERT>;
}

impl<const C: usize, E: Dtype, D: Device<E>, const INVERT: bool> TensorCollection<E, D>
    for Normalization<C, E, D, INVERT>
{
    type To<E2: Dtype, D2: Device<E2>> = Normalization<C, E2, D2, INVERT>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "mean",
                    |s| &s.mean,
                    |s| &mut s.mean,
                    TensorOptions::detached(zeros),
                ),
                Self::tensor(
                    "variance",
                    |s| &s.variance,
                    |s| &mut s.variance,
                    TensorOptions::detached(ones),
                ),
            ),
            |(mean, variance)| Normalization { mean, variance },
        )
    }
}

/// `Module` and `ModuleMut` (the same: the statistics do not train) for one input layout.
macro_rules! normalization_layout {
    ($($d:ident),*) => {
        impl<B: Dim, $(const $d: usize,)* const C: usize, E: Dtype, D: NormalizeKernel<E>, T: Tape<E, D>, const INVERT: bool>
            Module<Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>> for Normalization<C, E, D, INVERT>
        {
            type Output = Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                self.apply::<_, T>(x)
            }
        }

        impl<B: Dim, $(const $d: usize,)* const C: usize, E: Dtype, D: NormalizeKernel<E>, T: Tape<E, D>, const INVERT: bool>
            ModuleMut<Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>> for Normalization<C, E, D, INVERT>
        {
            type Output = Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>;
            type Error = D::Err;

            fn try_forward_mut(
                &mut self,
                x: Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                self.apply::<_, T>(x)
            }
        }
    };
}

normalization_layout!();
normalization_layout!(L);
normalization_layout!(H, W);

#[cfg(test)]
mod tests {
    use super::Normalization;
    use crate::data::ArrayDataset;
    use dfdx::prelude::*;

    #[test]
    fn a_built_layer_is_the_identity_and_holds_no_trainable_parameter() {
        let dev = Cpu::default();
        let norm = dev.build_module::<Normalization<3>, f32>();
        assert_eq!(norm.num_trainable_params(), 0);
        let x: Tensor<(usize, Const<3>), f32, _> =
            dev.tensor_from_vec(vec![1.0, -2.0, 3.5], (1, Const));
        assert_eq!(norm.forward(x).as_vec(), [1.0, -2.0, 3.5]);
    }

    #[test]
    fn the_inverse_undoes_the_normalization_and_survives_to_device() {
        let dev = Cpu::default();
        let data =
            ArrayDataset::<Rank1<2>, _>::features(vec![1.0, 5.0, 3.0, 9.0, 5.0, 1.0]).unwrap();
        let mut norm = dev.build_module::<Normalization<2>, f32>();
        norm.adapt(&data).unwrap();
        let mut inverse = dev.build_module::<Normalization<2, f32, Cpu, true>, f32>();
        inverse
            .set_weights(&norm.mean.as_vec(), &norm.variance.as_vec())
            .unwrap();
        let inverse: Normalization<2, f32, Cpu, true> = inverse.to_device(&dev);
        let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![2.0, -4.0], (1, Const));
        let back = inverse.forward(norm.forward(x.clone())).as_vec();
        for (b, x) in back.iter().zip(x.as_vec()) {
            assert!((b - x).abs() < 1e-5, "{back:?}");
        }
    }

    #[test]
    fn bad_statistics_and_bad_data_are_typed_errors_that_change_nothing() {
        let dev = Cpu::default();
        let mut norm = dev.build_module::<Normalization<2>, f32>();
        assert!(norm.set_weights(&[0.0, 0.0], &[1.0, -1.0]).is_err());
        assert!(norm.set_weights(&[0.0], &[1.0]).is_err());
        let empty = ArrayDataset::<Rank1<2>, _>::features(Vec::new());
        if let Ok(empty) = empty {
            assert!(norm.adapt(&empty).is_err());
        }
        let nan = ArrayDataset::<Rank1<2>, _>::features(vec![1.0, f32::NAN]).unwrap();
        assert!(norm.adapt(&nan).is_err());
        let odd = ArrayDataset::<Rank1<3>, _>::features(vec![1.0, 2.0, 3.0]).unwrap();
        assert!(norm.adapt(&odd).is_err());
        assert_eq!(norm.mean.array(), [0.0, 0.0]);
        assert_eq!(norm.variance.array(), [1.0, 1.0]);
    }
}
