//! Visitors between a model's trainable tensors and [`FlatParams`].

use dfdx::{
    nn::tensor_collection::{
        RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
        ViewTensorName, ViewTensorRef,
    },
    shapes::{HasShape, Shape},
    tensor::{Gradients, Tensor},
};

use crate::{device::KerasDevice, optimizers::FlatParams, Error, Result};

/// The trainable parameters of `model` (names are field paths such as `hidden.kernel`), with
/// their current values and zero gradients. Non-trainable tensors (BatchNormalization's moving
/// statistics) are not included.
pub fn layout<M: TensorCollection<f32, D>, D: KerasDevice>(model: &M) -> Result<FlatParams> {
    let mut v = LayoutVisitor {
        out: FlatParams::default(),
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(v.out)
}

/// Copies the model's trainable values into `params.values` (same layout as [`layout`]).
pub fn gather_values<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
    params: &mut FlatParams,
) -> Result<()> {
    let mut v = GatherValues { params, index: 0 };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(())
}

/// Writes `params.values` into the model's trainable tensors.
pub fn scatter_values<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &mut M,
    params: &FlatParams,
) -> Result<()> {
    let mut v = ScatterValues { params, index: 0 };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(())
}

/// Copies the gradients of the model's trainable tensors into `params.grads`.
pub fn gather_grads<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
    grads: &mut Gradients<f32, D>,
    params: &mut FlatParams,
) -> Result<()> {
    let mut v = GatherGrads {
        params,
        grads,
        index: 0,
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut v,
    })
    .map_err(Error::device)?;
    Ok(())
}

struct LayoutVisitor {
    out: FlatParams,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for LayoutVisitor {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if opts.do_gradient_update {
            let dims = t.shape().concrete();
            let range = self.out.push_var(&name, dims.as_ref()).range();
            t.copy_into(&mut self.out.values[range]);
        }
        Ok(None)
    }
}

struct GatherValues<'a> {
    params: &'a mut FlatParams,
    index: usize,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for GatherValues<'_> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if opts.do_gradient_update {
            let range = self.params.vars[self.index].range();
            t.copy_into(&mut self.params.values[range]);
            self.index += 1;
        }
        Ok(None)
    }
}

struct ScatterValues<'a> {
    params: &'a FlatParams,
    index: usize,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for ScatterValues<'_> {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &mut Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if opts.do_gradient_update {
            let range = self.params.vars[self.index].range();
            D::write_values(t, &self.params.values[range]);
            self.index += 1;
        }
        Ok(None)
    }
}

struct GatherGrads<'a, D: KerasDevice> {
    params: &'a mut FlatParams,
    grads: &'a mut Gradients<f32, D>,
    index: usize,
}

impl<D: KerasDevice> TensorVisitor<f32, D> for GatherGrads<'_, D> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if opts.do_gradient_update {
            let range = self.params.vars[self.index].range();
            D::take_grad_into(self.grads, t, &mut self.params.grads[range])?;
            self.index += 1;
        }
        Ok(None)
    }
}
