//! The host copy of a batch on the device: while the trainer runs a forward pass on a batch it
//! uploaded, it registers the host values it uploaded from, so that a layer which must look at
//! the batch's values on the host (an [`Embedding`](crate::layers::Embedding) checking its
//! float-coded token ids) reads them there instead of copying the batch back from the device,
//! which on `Cuda` would wait for the device in the middle of every step.
//!
//! The registration is scoped: [`with_host_copy`] holds it for the duration of one call and
//! takes it back when that call returns or unwinds, so a registered slice is never read after
//! its borrow ends. It is keyed by the tensor's id (dfdx's [`UniqueId`], never reused) and
//! checked against its element count, so no other tensor is taken for the batch.

use std::cell::Cell;

use dfdx::shapes::{HasShape, Shape};
use dfdx::tensor::{Storage, Tensor, UniqueId};

/// A registered host copy: the tensor it copies and the copy's elements.
#[derive(Clone, Copy)]
struct Registered {
    /// The id of the tensor whose values these are.
    id: UniqueId,
    /// The first element; valid for `len` elements while the registering call runs.
    values: *const f32,
    /// Element count.
    len: usize,
}

thread_local! {
    /// The host copy registered on this thread.
    static HOST_COPY: Cell<Option<Registered>> = const { Cell::new(None) };
}

/// Puts back the registration a [`with_host_copy`] replaced, when its call returns or unwinds.
struct Restore(Option<Registered>);

impl Drop for Restore {
    fn drop(&mut self) {
        HOST_COPY.with(|h| h.set(self.0));
    }
}

/// Runs `f` with `host` registered as the host copy of the values (in row-major order) of the
/// tensor whose id is `id` for this thread; the registration this one replaced is put back
/// afterwards.
pub(crate) fn with_host_copy<R>(id: UniqueId, host: &[f32], f: impl FnOnce() -> R) -> R {
    let registered = Registered {
        id,
        values: host.as_ptr(),
        len: host.len(),
    };
    let _restore = Restore(HOST_COPY.with(|h| h.replace(Some(registered))));
    f()
}

/// Calls `f` with the host copy registered for `x` on this thread (see [`with_host_copy`]), or
/// with `None` when there is none for `x` or it does not have `x`'s element count.
pub(crate) fn read_host_copy<S: Shape, E, D: Storage<E>, T, R>(
    x: &Tensor<S, E, D, T>,
    f: impl FnOnce(Option<&[f32]>) -> R,
) -> R {
    match HOST_COPY.with(Cell::get) {
        Some(r) if r.id == x.id() && r.len == x.shape().num_elements() => {
            // SAFETY: a registration lives only while the `with_host_copy` call that made it
            // runs (its `Restore` takes it back on return and on unwind, and nothing else sets
            // the cell), and that call borrows the `len` elements at `values` for its whole
            // duration. We are inside that call, on its thread, so they are alive, and nobody
            // can write them while they are shared-borrowed. `f` gets them for no longer than
            // this call.
            let host = unsafe { std::slice::from_raw_parts(r.values, r.len) };
            f(Some(host))
        }
        _ => f(None),
    }
}

#[cfg(test)]
mod tests {
    use super::{read_host_copy, with_host_copy};
    use dfdx::prelude::*;

    fn copy_of<S: Shape>(x: &Tensor<S, f32, Cpu>) -> Option<Vec<f32>> {
        read_host_copy(x, |h| h.map(<[f32]>::to_vec))
    }

    #[test]
    fn a_host_copy_is_read_for_its_tensor_only_and_only_while_registered() {
        let dev = Cpu::default();
        let x: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, 2.0, 3.0]);
        let other: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, 2.0, 3.0]);
        let host = vec![7.0, 8.0, 9.0];
        assert_eq!(copy_of(&x), None);
        with_host_copy(x.id(), &host, || {
            assert_eq!(copy_of(&x), Some(host.clone()));
            // A clone keeps the id (and the values): it reads the copy too.
            assert_eq!(copy_of(&x.clone()), Some(host.clone()));
            assert_eq!(copy_of(&other), None);
        });
        assert_eq!(copy_of(&x), None);
    }

    #[test]
    fn a_copy_of_another_length_is_not_read() {
        let dev = Cpu::default();
        let x: Tensor<Rank1<3>, f32, _> = dev.zeros();
        with_host_copy(x.id(), &[1.0, 2.0], || assert_eq!(copy_of(&x), None));
    }

    #[test]
    fn a_nested_registration_is_taken_back_on_return_and_on_unwind() {
        let dev = Cpu::default();
        let x: Tensor<Rank1<1>, f32, _> = dev.zeros();
        let y: Tensor<Rank1<1>, f32, _> = dev.zeros();
        with_host_copy(x.id(), &[1.0], || {
            with_host_copy(y.id(), &[2.0], || {
                assert_eq!(copy_of(&y), Some(vec![2.0]));
                assert_eq!(copy_of(&x), None);
            });
            assert_eq!(copy_of(&x), Some(vec![1.0]));
            let unwound = std::panic::catch_unwind(|| {
                with_host_copy(y.id(), &[3.0], || panic!("a forward pass fails"));
            });
            assert!(unwound.is_err());
            assert_eq!(copy_of(&x), Some(vec![1.0]));
            assert_eq!(copy_of(&y), None);
        });
        assert_eq!(copy_of(&x), None);
    }
}
