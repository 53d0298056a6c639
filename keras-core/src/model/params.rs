//! Visitors between a model's tensors and [`FlatParams`]: the trainable ones (what optimizers
//! update) or, for backups, the non-trainable ones (BatchNormalization's moving statistics).

use dfdx::{
    nn::tensor_collection::{
        RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
        ViewTensorName, ViewTensorRef,
    },
    shapes::{HasShape, Shape},
    tensor::{Gradients, Tensor},
};

use crate::{device::KerasDevice, state::FlatParams, Error, Result};

/// The trainable parameters of `model` (names are field paths such as `hidden.kernel`), with
/// their current values and zero gradients. Non-trainable tensors (BatchNormalization's moving
/// statistics) are not included.
pub fn layout<M: TensorCollection<f32, D>, D: KerasDevice>(model: &M) -> Result<FlatParams> {
    layout_of(model, true)
}

/// The non-trainable tensors of `model` (BatchNormalization's moving statistics), named by
/// field path, with their values (Keras's `model.non_trainable_weights`).
pub fn non_trainable_layout<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
) -> Result<FlatParams> {
    layout_of(model, false)
}

/// Writes `values` (laid out as [`non_trainable_layout`] returns them) into the non-trainable
/// tensors.
pub(crate) fn scatter_non_trainable<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &mut M,
    values: &[f32],
) -> Result<()> {
    let mut params = non_trainable_layout(model)?;
    if params.values.len() != values.len() {
        return Err(Error::ShapeMismatch {
            name: "non_trainable_weights",
            expected: format!("{} values", params.values.len()),
            got: format!("{} values", values.len()),
        });
    }
    params.values.copy_from_slice(values);
    scatter_of(model, &params, false)
}

/// The tensors whose `do_gradient_update` equals `trainable`, with their values.
fn layout_of<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
    trainable: bool,
) -> Result<FlatParams> {
    let mut v = LayoutVisitor {
        out: FlatParams::default(),
        trainable,
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
    scatter_of(model, params, true)
}

/// Writes `params.values` into the tensors whose `do_gradient_update` equals `trainable`.
fn scatter_of<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &mut M,
    params: &FlatParams,
    trainable: bool,
) -> Result<()> {
    let mut v = ScatterValues {
        params,
        index: 0,
        trainable,
    };
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
    walk_grads(model, grads, params, false)
}

/// Moves the gradients of the model's trainable tensors into `params.grads`: copies them and
/// leaves them zeroed for the next step, in one pass over each (on rayon's threads on `Cpu`).
/// What [`gather_grads`] then `zero_grads` do, with one pass fewer.
pub fn take_grads<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
    grads: &mut Gradients<f32, D>,
    params: &mut FlatParams,
) -> Result<()> {
    walk_grads(model, grads, params, true)
}

fn walk_grads<M: TensorCollection<f32, D>, D: KerasDevice>(
    model: &M,
    grads: &mut Gradients<f32, D>,
    params: &mut FlatParams,
    zero: bool,
) -> Result<()> {
    let mut v = GatherGrads {
        params,
        grads,
        index: 0,
        zero,
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
    trainable: bool,
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
        if opts.do_gradient_update == self.trainable {
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
    trainable: bool,
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
        if opts.do_gradient_update == self.trainable {
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
    zero: bool,
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
            let out = &mut self.params.grads[range];
            if self.zero {
                D::take_grad_into(self.grads, t, out)?;
            } else {
                D::copy_grad_into(self.grads, t, out)?;
            }
            self.index += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::{gather_grads, layout, take_grads};
    use crate::layers::{Dense, Linear};
    use dfdx::prelude::*;

    /// A 3 → 2 Dense layer and its gradients after one backward of `sum(dense(x))`.
    fn one_backward() -> (Dense<3, 2, Linear, f32, Cpu>, Gradients<f32, Cpu>) {
        let dev = Cpu::seed_from_u64(7);
        let model = dev.build_module::<Dense<3, 2>, f32>();
        let x: Tensor<(usize, Const<3>), f32, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.0], (2, Const));
        let grads = model
            .forward(x.traced(model.alloc_grads()))
            .sum()
            .backward();
        (model, grads)
    }

    #[test]
    fn take_grads_copies_what_gather_grads_copies_and_leaves_zeros() {
        let (model, mut grads) = one_backward();
        let mut gathered = layout(&model).unwrap();
        gather_grads(&model, &mut grads, &mut gathered).unwrap();
        assert!(gathered.grads.iter().any(|g| *g != 0.0));
        let mut taken = layout(&model).unwrap();
        take_grads(&model, &mut grads, &mut taken).unwrap();
        assert_eq!(taken.grads, gathered.grads);
        let mut after = layout(&model).unwrap();
        gather_grads(&model, &mut grads, &mut after).unwrap();
        assert!(after.grads.iter().all(|g| *g == 0.0));
    }

    #[test]
    fn gather_grads_leaves_the_gradients_in_place() {
        let (model, mut grads) = one_backward();
        let mut first = layout(&model).unwrap();
        gather_grads(&model, &mut grads, &mut first).unwrap();
        let mut second = layout(&model).unwrap();
        gather_grads(&model, &mut grads, &mut second).unwrap();
        assert_eq!(first.grads, second.grads);
    }
}
