//! Keras's `MaxPooling2D` layer (channels-last, `"valid"`).

use dfdx::shapes::{Axis, Dim, Dtype};
use dfdx::tensor::{HasErr, NoneTape, Tape};
use dfdx::tensor_ops::{Device, MaxTo, SumTo, TryAdd, TryMul};

use super::avg_pool2d::{pool2d_layer, Pooled, Windows};
use crate::device::KerasDevice;

/// Keras's `MaxPooling2D(pool_size=K, strides=S)` with `padding="valid"` on channels-last
/// images: `(batch, H, W, C)` → `(batch, OH, OW, C)`, the maximum of each `K x K` window.
///
/// `S` defaults to `K`, as Keras's `strides=None`. `H`, `W`, `C` come from the input type and
/// `OH == (H - K) / S + 1` (and the same for `OW`) is checked when the forward is compiled. When
/// several elements of a window tie for the maximum, dfdx gives each of them the gradient (Keras
/// on JAX picks one); with real-valued data ties are rare. A window holding a NaN pools to NaN,
/// as Keras's (one holding an infinity pools to NaN too, where Keras gives the infinity). No
/// tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::MaxPool2D;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<2>, Const<1>), f32, _> =
///     dev.tensor_from_vec(vec![1.0, 5.0, 3.0, 2.0], (1, Const, Const, Const));
/// let y = MaxPool2D::<2, 1, 1>.forward(x);
/// assert_eq!(y.as_vec(), vec![5.0]);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2D<const K: usize, const OH: usize, const OW: usize, const S: usize = K>;

/// Keras's name for [`MaxPool2D`].
///
/// # Examples
/// ```
/// use keras_core::layers::{MaxPool2D, MaxPooling2D};
///
/// let _same: MaxPool2D<2, 4, 4> = MaxPooling2D::<2, 4, 4>::default();
/// ```
pub type MaxPooling2D<const K: usize, const OH: usize, const OW: usize, const S: usize = K> =
    MaxPool2D<K, OH, OW, S>;

/// The maximum of each window, NaN where the window holds a NaN or an infinity. dfdx's maximum
/// skips a NaN (`f32::max`), which would hide it from the loss while the layer before still
/// multiplies its gradient by it. `windows * 0` summed per window (0, or NaN for such a window)
/// is added to the maxima (detached: it changes no gradient). In host memory (`Cpu`,
/// [`KerasDevice::HOST_MEMORY`]), one sum over the windows first tells whether any is not finite,
/// and the probe runs only then; on other devices that read would wait for the device at every
/// step, so the probe always runs there.
pub(super) fn window_max<
    B: Dim,
    const OH: usize,
    const OW: usize,
    const C: usize,
    E: Dtype,
    D: Device<E> + KerasDevice,
    T: Tape<E, D>,
>(
    windows: Windows<B, OH, OW, C, E, D, T>,
) -> Result<Pooled<B, OH, OW, C, E, D, T>, <D as HasErr>::Err> {
    if D::HOST_MEMORY {
        let total = windows
            .retaped::<NoneTape>()
            .try_sum::<(), _>()?
            .as_vec()
            .first()
            .and_then(|t| t.to_f64())
            .unwrap_or(f64::NAN);
        if total.is_finite() {
            return windows.try_max::<_, Axis<3>>();
        }
    }
    let nan_probe = windows
        .retaped::<NoneTape>()
        .try_mul(E::default())?
        .try_sum::<_, Axis<3>>()?;
    windows.try_max::<_, Axis<3>>()?.try_add(nan_probe)
}

pool2d_layer!(MaxPool2D, window_max, KerasDevice);

#[cfg(test)]
mod tests {
    use super::MaxPool2D;
    use dfdx::prelude::*;

    #[test]
    fn a_nan_in_a_window_pools_to_nan_and_leaves_the_other_windows_and_gradients_alone() {
        let dev = Cpu::default();
        let mut data: Vec<f32> = (0..16).map(|v| v as f32).collect();
        data[0] = f32::NAN;
        let x: Tensor<(usize, Const<4>, Const<4>, Const<1>), f32, _> =
            dev.tensor_from_vec(data, (1, Const, Const, Const));
        let y = MaxPool2D::<2, 2, 2>.forward(x.leaky_trace());
        let values = y.as_vec();
        assert!(values[0].is_nan());
        assert_eq!(&values[1..], [7.0, 13.0, 15.0]);
        let grads = y.sum().backward();
        let g = grads.get(&x).as_vec();
        assert_eq!((g[7], g[13], g[15]), (1.0, 1.0, 1.0));
    }

    #[test]
    fn max_pool_takes_each_window_maximum_per_channel() {
        let dev = Cpu::default();
        let data: Vec<f32> = (0..32).map(|v| ((v * 5) % 13) as f32).collect();
        let x: Tensor<(usize, Const<4>, Const<4>, Const<2>), f32, _> =
            dev.tensor_from_vec(data.clone(), (1, Const, Const, Const));
        let y = MaxPool2D::<2, 2, 2>.forward(x).as_vec();
        for oy in 0..2 {
            for ox in 0..2 {
                for c in 0..2 {
                    let mut m = f32::MIN;
                    for ky in 0..2 {
                        for kx in 0..2 {
                            m = m.max(data[((oy * 2 + ky) * 4 + ox * 2 + kx) * 2 + c]);
                        }
                    }
                    assert_eq!(y[(oy * 2 + ox) * 2 + c], m);
                }
            }
        }
    }
}
