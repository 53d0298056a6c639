//! Losses that apply one function per element, then average or sum over the last axis.

use super::{check_dense, check_rows};
use crate::Result;

/// How the per-element values of a row become the row's loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregate {
    /// `jnp.mean` over the row.
    Mean,
    /// `jnp.sum` over the row.
    Sum,
}

/// Applies `f(t, p) -> (value, d value / d p)` to every element and aggregates each row into
/// `values`; writes the per-element derivative of the row value into `grad` when given.
pub(crate) fn per_element<F>(
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    aggregate: Aggregate,
    values: &mut [f32],
    mut grad: Option<&mut [f32]>,
    f: F,
) -> Result<()>
where
    F: Fn(f32, f32) -> (f32, f32),
{
    check_dense(y_true, y_pred)?;
    check_rows(y_pred, cols, values, grad.as_deref())?;
    let n = cols as f32;
    let scale = match aggregate {
        Aggregate::Mean => 1.0 / n,
        Aggregate::Sum => 1.0,
    };
    for (r, v) in values.iter_mut().enumerate() {
        let mut acc = 0.0f32;
        for c in r * cols..(r + 1) * cols {
            let (value, slope) = f(y_true[c], y_pred[c]);
            acc += value;
            if let Some(g) = grad.as_deref_mut() {
                g[c] = slope * scale;
            }
        }
        *v = match aggregate {
            Aggregate::Mean => acc / n,
            Aggregate::Sum => acc,
        };
    }
    Ok(())
}

/// Defines a loss whose row value aggregates one function per element: the struct (with only a
/// [`Reduction`](super::Reduction)), its `with_reduction` setter, [`LossFn`](super::LossFn) via
/// [`per_element`] and [`Loss<K>`](super::Loss) on dense labels.
///
/// `$element` maps `($t, $p)` to `(value, d value / d p)`. With `per_call $batch = $setup`,
/// `$batch` is `$setup(y_true)`, computed once per call before the elements (Keras's hinge
/// losses decide on the whole batch whether the labels are 0/1).
macro_rules! elementwise_loss {
    (
        $(#[$doc:meta])*
        $name:ident, $log:literal, $aggregate:ident,
        $(per_call $batch:ident = $setup:path,)?
        $(device $form:expr,)?
        |$t:ident, $p:ident| $element:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name {
            reduction: $crate::losses::Reduction,
        }

        impl $name {
            $crate::losses::setters::loss_setters!(reduction);
        }

        impl $crate::losses::LossFn for $name {
            fn name(&self) -> &str {
                $log
            }

            fn keras_config(&self) -> Option<serde_json::Value> {
                (self.reduction == $crate::losses::Reduction::default())
                    .then(|| serde_json::Value::from($log))
            }

            fn reduction(&self) -> $crate::losses::Reduction {
                self.reduction
            }

            fn per_sample(
                &self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                values: &mut [f32],
                grad: Option<&mut [f32]>,
            ) -> $crate::Result<()> {
                $(let $batch = $setup(y_true);)?
                $crate::losses::elementwise::per_element(
                    y_true,
                    y_pred,
                    cols,
                    $crate::losses::elementwise::Aggregate::$aggregate,
                    values,
                    grad,
                    |$t, $p| $element,
                )
            }

            $(
                fn device_form(
                    &self,
                    y_true: &[f32],
                    rows: usize,
                    cols: usize,
                    labels: &mut Vec<f32>,
                ) -> $crate::Result<Option<$crate::losses::DeviceLoss>> {
                    $crate::losses::dense_device_form($form, y_true, rows, cols, labels)
                }
            )?
        }

        impl<const K: usize> $crate::losses::Loss<K> for $name {
            type Target = $crate::target::Dense<K>;
        }
    };
}

pub(crate) use elementwise_loss;
