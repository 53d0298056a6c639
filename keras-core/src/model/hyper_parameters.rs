//! A model's layer hyper-parameters, read through its `TensorCollection` (the layers name
//! them as dfdx scalar fields).

use dfdx::{
    nn::tensor_collection::{
        RecursiveWalker, ScalarOptions, TensorCollection, TensorOptions, TensorVisitor,
        ViewTensorName, ViewTensorRef,
    },
    shapes::Shape,
    tensor::Tensor,
};
use num_traits::NumCast;

use crate::{device::KerasDevice, state::HyperParameters, Error, Result};

/// The hyper-parameters of `model`'s layers (Dropout's `rate`, BatchNormalization's `momentum`
/// and `epsilon`, LayerNormalization's `epsilon`, LeakyReLU's `negative_slope`, ELU's
/// `alpha`), named by field path, with their current values.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{Dense, Dropout};
///
/// let dev = Cpu::default();
/// let mut model = dev.build_module::<(Dense<2, 3>, Dropout, Dense<3, 1>), f32>();
/// model.1 = Dropout::new(0.2)?;
/// let hp = keras_core::model::hyper_parameters(&model)?;
/// assert_eq!(hp.values, vec![("1.rate".to_string(), 0.2)]);
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn hyper_parameters<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
) -> Result<HyperParameters> {
    let mut v = Collect {
        out: HyperParameters::default(),
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(v.out)
}

struct Collect {
    out: HyperParameters,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for Collect {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _opts: TensorOptions<S, f32, D>,
        _t: (&Tensor<S, f32, D>, String),
    ) -> std::result::Result<Option<Tensor<S, f32, D>>, D::Err> {
        Ok(None)
    }

    fn visit_scalar<N: NumCast>(
        &mut self,
        _opts: ScalarOptions<N>,
        (value, name): (&N, String),
    ) -> std::result::Result<Option<N>, D::Err> {
        if let Some(value) = value.to_f64() {
            self.out.values.push((name, value));
        }
        Ok(None)
    }
}
