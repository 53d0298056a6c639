//! A model and its gradients as [`ResidentVars`]: the buffers a resident optimizer step updates.

use dfdx::{
    nn::tensor_collection::{
        RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
    },
    shapes::Shape,
    tensor::{Gradients, Tensor},
};

use crate::{
    device::{Buffer, KerasDevice},
    optimizers::ResidentVars,
    Error, Result,
};

/// `model`'s trainable tensors and their gradients in `grads`, on `device`.
pub(crate) struct ModelVars<'a, M, D: KerasDevice> {
    pub(crate) model: &'a mut M,
    pub(crate) grads: &'a mut Gradients<f32, D>,
    pub(crate) device: &'a D,
}

impl<M: TensorCollection<f32, D>, D: KerasDevice> ResidentVars<D> for ModelVars<'_, M, D> {
    fn device(&self) -> &D {
        self.device
    }

    fn for_each_var<F>(&mut self, f: F) -> Result<()>
    where
        F: FnMut(&D, usize, &mut Buffer<D>, &mut Buffer<D>) -> Result<()>,
    {
        let mut visitor = EachVar {
            device: self.device,
            grads: &mut *self.grads,
            f,
            index: 0,
        };
        M::iter_tensors(&mut RecursiveWalker {
            m: &mut *self.model,
            f: &mut visitor,
        })?;
        Ok(())
    }
}

struct EachVar<'a, D: KerasDevice, F> {
    device: &'a D,
    grads: &'a mut Gradients<f32, D>,
    f: F,
    index: usize,
}

impl<D: KerasDevice, F> TensorVisitor<f32, D> for EachVar<'_, D, F>
where
    F: FnMut(&D, usize, &mut Buffer<D>, &mut Buffer<D>) -> Result<()>,
{
    type Viewer = ViewTensorMut;
    type Err = Error;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &mut Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>> {
        if opts.do_gradient_update {
            let grad = self.grads.get_or_alloc_mut(t).map_err(Error::device)?;
            // Copy-on-write: a clone of the model sharing this buffer keeps its values.
            let value = t.storage_mut();
            (self.f)(self.device, self.index, value, grad)?;
            self.index += 1;
        }
        Ok(None)
    }
}
