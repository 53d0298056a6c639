//! Zero-copy reads of `Cpu` tensor data, which dfdx 0.13 does not expose as a slice.

use std::borrow::Cow;

use dfdx::shapes::{HasShape, Shape};
use dfdx::tensor::{Cpu, Tensor};

/// The elements of `t` in row-major order, without copying, when `t` is stored contiguously
/// row-major (not broadcast, not permuted) and is not empty; `None` otherwise.
pub(crate) fn contiguous<S: Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Option<&[f32]> {
    let dims = t.shape().concrete();
    let len = t.shape().num_elements();
    if len == 0 {
        return None;
    }
    let origin = S::Concrete::default();
    let base = &t[origin] as *const f32;
    let offset =
        |index: S::Concrete| (&t[index] as *const f32 as usize).wrapping_sub(base as usize);
    // Row-major strides: stepping axis `d` by one moves past everything to its right.
    let mut stride = 1;
    for d in (0..S::NUM_DIMS).rev() {
        if dims[d] > 1 {
            let mut step = origin;
            step[d] = 1;
            if offset(step) != stride * std::mem::size_of::<f32>() {
                return None;
            }
        }
        stride *= dims[d];
    }
    let mut last = dims;
    for d in 0..S::NUM_DIMS {
        last[d] -= 1;
    }
    if offset(last) != (len - 1) * std::mem::size_of::<f32>() {
        return None;
    }
    // SAFETY: `Index` on a `Cpu` tensor returns a reference into the tensor's `Vec<f32>`; it
    // bounds-checks against that `Vec`, so the elements at `origin` and at `last`, `len - 1`
    // elements after it (checked just above), both lie in the same initialised buffer, and so
    // does everything between them. The buffer is behind the `Arc` of the borrowed tensor: while
    // `&t` lives nobody can write it (dfdx writes only through `Arc::make_mut`, which needs a
    // unique `&mut` tensor). dfdx 0.13 has no public slice accessor, so the pointer comes from the
    // first element's reference; reading its neighbours through it is accepted by Rust's Tree
    // Borrows model (which does not shrink a reference's provenance to its pointee) and by
    // rustc/LLVM, though Stacked Borrows would flag it.
    Some(unsafe { std::slice::from_raw_parts(base, len) })
}

/// The elements of `t` in row-major order, mutably and without copying, under the same
/// conditions as [`contiguous`]. If `t` shares its buffer, dfdx's `IndexMut` first gives it its
/// own copy (`Arc::make_mut`), so writes never show through other tensors.
pub(crate) fn contiguous_mut<S: Shape>(t: &mut Tensor<S, f32, Cpu>) -> Option<&mut [f32]> {
    let len = contiguous(t)?.len();
    let base = &mut t[S::Concrete::default()] as *mut f32;
    // SAFETY: as in `contiguous`: `len` elements from `base` lie in the tensor's buffer (a copy
    // made by `Arc::make_mut` has the same length and the tensor keeps its strides). `IndexMut`
    // left that buffer uniquely owned by `t`, which stays mutably borrowed for the slice's
    // lifetime, so nothing else reads or writes it meanwhile.
    Some(unsafe { std::slice::from_raw_parts_mut(base, len) })
}

/// The elements of `t` in row-major order: borrowed when [`contiguous`] (always, for the
/// tensors a fused op's forward accepted and its backward reads again), else copied.
pub(crate) fn read<S: Shape>(t: &Tensor<S, f32, Cpu>) -> Cow<'_, [f32]> {
    contiguous(t).map_or_else(|| Cow::Owned(t.as_vec()), Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::{contiguous, contiguous_mut};
    use dfdx::prelude::*;

    #[test]
    fn contiguous_reads_a_row_major_tensor_in_place() {
        let dev = Cpu::default();
        let t: Tensor<Rank2<2, 3>, f32, _> = dev.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(contiguous(&t), Some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0][..]));
        let v: Tensor<Rank1<1>, f32, _> = dev.tensor([7.0]);
        assert_eq!(contiguous(&v), Some(&[7.0][..]));
    }

    #[test]
    fn contiguous_mut_writes_only_its_own_tensor() {
        let dev = Cpu::default();
        let a: Tensor<Rank2<2, 2>, f32, _> = dev.tensor([[1.0, 2.0], [3.0, 4.0]]);
        let mut b = a.clone();
        contiguous_mut(&mut b)
            .unwrap()
            .copy_from_slice(&[5.0, 6.0, 7.0, 8.0]);
        assert_eq!(b.array(), [[5.0, 6.0], [7.0, 8.0]]);
        assert_eq!(a.array(), [[1.0, 2.0], [3.0, 4.0]]);
    }

    #[test]
    fn contiguous_refuses_broadcast_permuted_and_empty_tensors() {
        let dev = Cpu::default();
        let row: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, 2.0, 3.0]);
        let b: Tensor<Rank2<2, 3>, f32, _> = row.broadcast();
        assert_eq!(contiguous(&b), None);
        let t: Tensor<Rank2<2, 3>, f32, _> = dev.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let p: Tensor<Rank2<3, 2>, f32, _> = t.permute();
        assert_eq!(contiguous(&p), None);
        let e: Tensor<(usize, Const<3>), f32, _> = dev.zeros_like(&(0, Const));
        assert_eq!(contiguous(&e), None);
    }
}
