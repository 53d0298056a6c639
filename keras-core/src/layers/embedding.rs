//! Keras's `Embedding` layer.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank2, Shape};
use dfdx::tensor::{Cpu, PutTape, SplitTape, Storage, Tape, Tensor};
use dfdx::tensor_ops::{Device, GatherTo};
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::initializers::uniform;
use super::weights::{check_len, copy_f32};
use crate::kernels::embedding::{first_bad_id, try_embedding_lookup, EmbeddingKernel};
use crate::kernels::read_host_copy;
use crate::{Error, Result};

/// Keras's `Embedding(input_dim=V, output_dim=M)`: maps class ids in `0..V` to rows of the
/// `[V, M]` matrix `embeddings` (Keras's name and layout; initialised `uniform(-0.05, 0.05)`).
///
/// Inputs are `usize` id tensors `(batch,)` → `(batch, M)` or `(batch, L)` → `(batch, L, M)`,
/// carrying any tape. An id `>= V` makes dfdx's gather panic, so check untrusted ids first with
/// [`Embedding::check_ids`], which returns a typed error instead.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Embedding;
///
/// let dev = Cpu::default();
/// let mut emb = dev.build_module::<Embedding<3, 2>, f32>();
/// assert_eq!(emb.num_trainable_params(), 6);
/// emb.set_weights(&[0.0, 0.1, 1.0, 1.1, 2.0, 2.1])?;
/// let ids: Tensor<(usize,), usize, _> = dev.tensor_from_vec(vec![2, 0], (2,));
/// emb.check_ids(&ids)?;
/// assert_eq!(emb.forward(ids).as_vec(), vec![2.0, 2.1, 0.0, 0.1]);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Embedding<const V: usize, const M: usize, E: Dtype = f32, D: Storage<E> = Cpu> {
    /// The embedding matrix, `[V, M]` (Keras layout).
    pub embeddings: Tensor<Rank2<V, M>, E, D>,
}

impl<const V: usize, const M: usize, E: Dtype, D: Device<E>> Embedding<V, M, E, D> {
    /// Loads Keras weights: `embeddings` row-major `[V, M]`, length-checked.
    pub fn set_weights(&mut self, embeddings: &[f32]) -> Result<()> {
        check_len(
            &self.embeddings,
            "embeddings",
            &format!("[{V}, {M}]"),
            embeddings,
        )?;
        copy_f32(&mut self.embeddings, embeddings);
        Ok(())
    }

    /// Checks that every id is below `V` (copies the ids to the host).
    pub fn check_ids<S: Shape, T>(&self, ids: &Tensor<S, usize, D, T>) -> Result<()>
    where
        D: Storage<usize>,
    {
        match ids.as_vec().iter().enumerate().find(|(_, &id)| id >= V) {
            Some((index, id)) => Err(Error::invalid(
                "input",
                format!("id {id} at position {index} is not in 0..{V} (the embedding's input_dim)"),
            )),
            None => Ok(()),
        }
    }
}

impl<const V: usize, const M: usize, E: Dtype, D: Storage<E>> NonMutableModule
    for Embedding<V, M, E, D>
{
}

impl<const V: usize, const M: usize, E1: Dtype, D1: Storage<E1>, E: Dtype, D: Device<E>>
    BuildOnDevice<D, E> for Embedding<V, M, E1, D1>
where
    Embedding<V, M, E, D>: BuildModule<D, E>,
{
    type Built = Embedding<V, M, E, D>;
}

impl<const V: usize, const M: usize, E, D> TensorCollection<E, D> for Embedding<V, M, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Embedding<V, M, E2, D2>;

    fn iter_tensors<Vi: ModuleVisitor<Self, E, D>>(
        visitor: &mut Vi,
    ) -> Result<Option<Self::To<Vi::E2, Vi::D2>>, Vi::Err> {
        visitor.visit_fields(
            Self::tensor(
                "embeddings",
                |s| &s.embeddings,
                |s| &mut s.embeddings,
                TensorOptions::reset_with(uniform),
            ),
            |embeddings| Embedding { embeddings },
        )
    }
}

impl<const V: usize, const M: usize, B: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(B,), usize, D, T>> for Embedding<V, M, E, D>
{
    type Output = Tensor<(B, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, ids: Tensor<(B,), usize, D, T>) -> Result<Self::Output, D::Err> {
        let (ids, tape) = ids.split_tape();
        self.embeddings.clone().put_tape(tape).try_gather(ids)
    }
}

impl<const V: usize, const M: usize, B: Dim, L: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(B, L), usize, D, T>> for Embedding<V, M, E, D>
{
    type Output = Tensor<(B, L, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, ids: Tensor<(B, L), usize, D, T>) -> Result<Self::Output, D::Err> {
        let (ids, tape) = ids.split_tape();
        self.embeddings.clone().put_tape(tape).try_gather(ids)
    }
}

thread_local! {
    /// The first id an [`Embedding`] refused in the current thread since the last
    /// [`take_bad_id`]: `(position in the input, value, input_dim)`.
    static BAD_ID: std::cell::Cell<Option<(usize, f64, usize)>> = const { std::cell::Cell::new(None) };
}

/// The first float-coded id an [`Embedding`] refused (not an integer in `0..input_dim`) since
/// the last call, as a typed error; the trainer asks after each forward pass, so a bad id in a
/// batch stops `fit`, `evaluate` or `predict` before the step changes anything.
pub(crate) fn take_bad_id() -> Result<()> {
    match BAD_ID.with(|b| b.take()) {
        None => Ok(()),
        Some((position, value, input_dim)) => Err(Error::invalid(
            "input",
            format!(
                "token id {value} at position {position} of the batch is not an integer in \
                 0..{input_dim} (the Embedding's input_dim)"
            ),
        )),
    }
}

/// Keras's integer inputs as the trainer's batches carry them: token ids coded as floats
/// (`(batch, L)` → `(batch, L, M)`), as Keras casts its inputs. Each id must be an integer in
/// `0..V`; a bad one is looked up as id 0 and recorded, and the trainer turns it into an
/// [`Error::InvalidArgument`] naming its position and value before anything is updated.
///
/// The lookup is one op per device ([`EmbeddingKernel`]: on `Cuda` it reads the ids where the
/// batch was uploaded). The ids are checked on the host: in the trainer, on the batch's host
/// values it uploaded from (nothing is copied back from the device); elsewhere where the device
/// keeps them ([`EmbeddingKernel::try_first_bad_id`]).
impl<const V: usize, const M: usize, B: Dim, const L: usize, D, T>
    Module<Tensor<(B, Const<L>), f32, D, T>> for Embedding<V, M, f32, D>
where
    D: EmbeddingKernel,
    T: Tape<f32, D>,
{
    type Output = Tensor<(B, Const<L>, Const<M>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<L>), f32, D, T>) -> Result<Self::Output, D::Err> {
        let (x, tape) = x.split_tape();
        let bad = match read_host_copy(&x, |host| host.map(|ids| first_bad_id(ids, V))) {
            Some(bad) => bad,
            None => D::try_first_bad_id(&x, V)?,
        };
        if let Some((position, value)) = bad {
            BAD_ID.with(|b| {
                if b.get().is_none() {
                    b.set(Some((position, f64::from(value), V)));
                }
            });
        }
        let (batch, _) = *x.shape();
        try_embedding_lookup(
            self.embeddings.clone().put_tape(tape),
            &x,
            (batch, Const, Const),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Embedding;
    use dfdx::prelude::*;

    #[test]
    fn embedding_initialises_within_keras_uniform_bounds() {
        let dev = Cpu::seed_from_u64(0);
        let emb = dev.build_module::<Embedding<100, 8>, f32>();
        let w = emb.embeddings.as_vec();
        assert!(w.iter().all(|v| v.abs() <= 0.05));
        assert!(w.iter().any(|v| v.abs() > 0.04));
    }

    #[test]
    fn embedding_looks_up_sequences_and_rejects_unknown_ids() {
        let dev = Cpu::default();
        let mut emb = dev.build_module::<Embedding<2, 1>, f32>();
        emb.set_weights(&[5.0, 7.0]).unwrap();
        let ids: Tensor<(usize, Const<3>), usize, _> =
            dev.tensor_from_vec(vec![1, 0, 1, 0, 0, 1], (2, Const));
        let y = emb.forward(ids);
        assert_eq!(y.shape(), &(2, Const::<3>, Const::<1>));
        assert_eq!(y.as_vec(), vec![7.0, 5.0, 7.0, 5.0, 5.0, 7.0]);
        let bad: Tensor<(usize,), usize, _> = dev.tensor_from_vec(vec![0, 2], (2,));
        assert!(emb.check_ids(&bad).is_err());
        assert!(emb.set_weights(&[1.0]).is_err());
    }

    #[test]
    fn float_coded_ids_are_checked_on_their_registered_host_copy_when_there_is_one() {
        let dev = Cpu::default();
        let mut emb = dev.build_module::<Embedding<3, 1>, f32>();
        emb.set_weights(&[5.0, 6.0, 7.0]).unwrap();
        let x: Tensor<(usize, Const<2>), f32, _> =
            dev.tensor_from_vec(vec![2.0, 0.0, 1.0, 7.0], (2, Const));
        let _ = super::take_bad_id();
        // Without a host copy the ids are read where they lie: the 7 at position 3 is refused
        // (and looked up as row 0).
        assert_eq!(emb.forward(x.clone()).as_vec(), [7.0, 5.0, 6.0, 5.0]);
        let err = super::take_bad_id().unwrap_err().to_string();
        assert!(err.contains("token id 7 at position 3"), "{err}");
        // With one, the copy is what is checked: here it names another bad id, which shows
        // that the tensor's own values were not read for the check (a trainer registers the
        // values it uploaded, so the two agree).
        let host = [2.0, 1.5, 1.0, 0.0];
        let rows = crate::kernels::with_host_copy(x.id(), &host, || emb.forward(x.clone()));
        assert_eq!(rows.as_vec(), [7.0, 5.0, 6.0, 5.0]);
        let err = super::take_bad_id().unwrap_err().to_string();
        assert!(err.contains("token id 1.5 at position 1"), "{err}");
        let good = [2.0, 0.0, 1.0, 0.0];
        crate::kernels::with_host_copy(x.id(), &good, || emb.forward(x.clone()));
        assert!(super::take_bad_id().is_ok());
    }
}
