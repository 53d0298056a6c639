//! A model's non-trainable tensors (BatchNormalization's moving statistics) as
//! [`FlatParams`], for backups: the trainable ones travel through [`crate::model`].

use dfdx::{
    nn::tensor_collection::{
        RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
        ViewTensorName, ViewTensorRef,
    },
    shapes::{HasShape, Shape},
    tensor::Tensor,
};

use crate::{device::KerasDevice, optimizers::FlatParams, Error, Result};

/// The non-trainable tensors of `model`, named by field path, with their values.
pub(crate) fn gather_buffers<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
) -> Result<FlatParams> {
    let mut v = Gather {
        out: FlatParams::default(),
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(v.out)
}

/// Writes `values` (laid out as [`gather_buffers`] returns them) into the non-trainable tensors.
pub(crate) fn scatter_buffers<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &mut M,
    values: &[f32],
) -> Result<()> {
    let layout = gather_buffers(model)?;
    if layout.values.len() != values.len() {
        return Err(Error::ShapeMismatch {
            name: "non_trainable_weights",
            expected: format!("{} values", layout.values.len()),
            got: format!("{} values", values.len()),
        });
    }
    let mut v = Scatter { values, offset: 0 };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(())
}

struct Gather {
    out: FlatParams,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for Gather {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> std::result::Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            let dims = t.shape().concrete();
            let range = self.out.push_var(&name, dims.as_ref()).range();
            t.copy_into(&mut self.out.values[range]);
        }
        Ok(None)
    }
}

struct Scatter<'a> {
    values: &'a [f32],
    offset: usize,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for Scatter<'_> {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &mut Tensor<S, f32, D>,
    ) -> std::result::Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            let len = t.shape().num_elements();
            t.copy_from(&self.values[self.offset..self.offset + len]);
            self.offset += len;
        }
        Ok(None)
    }
}
