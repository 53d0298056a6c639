//! The embedding lookup on `Cpu`: rows copied on rayon's threads forward; the output's gradient
//! added to the table's rows in position order backward (dfdx's gather backward's order, so the
//! same bits as before the op was fused).

use dfdx::shapes::{HasShape, Rank2, Shape};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};
use rayon::prelude::*;

use super::{first_bad_id, row_of, EmbeddingKernel};
use crate::kernels::contiguous_mut;
use crate::kernels::cpu_view::read;

/// Output values per block of work.
const BLOCK: usize = 1 << 14;

impl EmbeddingKernel for Cpu {
    fn try_embedding_lookup<const V: usize, const M: usize, S: Shape, O: Shape, T>(
        table: Tensor<Rank2<V, M>, f32, Self, T>,
        ids: &Tensor<S, f32, Self>,
        out: O,
    ) -> Result<Tensor<O, f32, Self, T>, CpuError>
    where
        T: Tape<f32, Self>,
    {
        let n = ids.shape().num_elements();
        if out.num_elements() != n * M {
            return Err(CpuError::WrongNumElements);
        }
        let (table, mut tape) = table.split_tape();
        // From dfdx's allocator, so its cache stays balanced.
        let mut rows: Tensor<O, f32, Cpu> = table.device().try_zeros_like(&out)?;
        // Empty (no ids, or rows of width 0): nothing to look up or to train.
        let Some(to) = contiguous_mut(&mut rows) else {
            return Ok(rows.put_tape(tape));
        };
        gather(&read(ids), &read(&table), M, V, to);
        if T::OWNS_TAPE {
            let (ids, rows) = (ids.clone(), rows.clone());
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
                // Borrow the output's gradient by moving it out, so the table's can be borrowed
                // mutably.
                let g = std::mem::take(&mut **grads.get_or_alloc_mut(&rows)?);
                scatter_add(&read(&ids), &g, M, V, grads.get_or_alloc_mut(&table)?);
                **grads.get_or_alloc_mut(&rows)? = g;
                Ok(())
            });
        }
        Ok(rows.put_tape(tape))
    }

    fn try_first_bad_id<S: Shape>(
        ids: &Tensor<S, f32, Self>,
        vocab: usize,
    ) -> Result<Option<(usize, f32)>, CpuError> {
        Ok(first_bad_id(&read(ids), vocab))
    }
}

/// `to`'s row `p` (`m` values) = `table`'s row at `ids[p]` (row 0 for an id that names none of
/// the `vocab` rows).
fn gather(ids: &[f32], table: &[f32], m: usize, vocab: usize, to: &mut [f32]) {
    let per_block = BLOCK.div_ceil(m).max(1);
    to.par_chunks_mut(per_block * m)
        .zip(ids.par_chunks(per_block))
        .for_each(|(to, ids)| {
            for (to, &id) in to.chunks_exact_mut(m).zip(ids) {
                let row = row_of(id, vocab).unwrap_or(0);
                to.copy_from_slice(&table[row * m..][..m]);
            }
        });
}

/// `grad_table`'s row at `ids[p]` += `g`'s row `p`, in position order.
fn scatter_add(ids: &[f32], g: &[f32], m: usize, vocab: usize, grad_table: &mut [f32]) {
    for (g, &id) in g.chunks_exact(m).zip(ids) {
        let row = row_of(id, vocab).unwrap_or(0);
        for (to, &v) in grad_table[row * m..][..m].iter_mut().zip(g) {
            *to += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::kernels::embedding::{try_embedding_lookup, EmbeddingKernel};

    /// dfdx's gather on the same ids as `usize`s (a bad id as 0), and the gradient of
    /// `sum(rows · w)`.
    fn with_dfdx(table: &[f32], ids: &[f32], w: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let dev = Cpu::default();
        let t: Tensor<Rank2<7, 3>, f32, _> =
            dev.tensor_from_vec(table.to_vec(), Default::default());
        let n = ids.len();
        let rows: Vec<usize> = ids
            .iter()
            .map(|&id| super::row_of(id, 7).unwrap_or(0))
            .collect();
        let rows: Tensor<(usize,), usize, _> = dev.tensor_from_vec(rows, (n,));
        let out = t.leaky_trace().gather(rows);
        let w: Tensor<(usize, Const<3>), f32, _> = dev.tensor_from_vec(w.to_vec(), (n, Const));
        let values = out.retaped::<NoneTape>().as_vec();
        let grads = (out * w).sum().backward();
        (values, grads.get(&t).as_vec())
    }

    #[test]
    fn the_lookup_and_its_gradient_match_dfdx_gather_bit_for_bit() {
        let dev = Cpu::default();
        let table: Vec<f32> = (0..21).map(|i| (i as f32 * 0.37).sin()).collect();
        // Repeats, every row, and ids that name none (read as row 0); 6,000 ids span blocks.
        let ids: Vec<f32> = (0..6_000)
            .map(|i| match i % 11 {
                9 => 7.0,
                10 => 2.5,
                k => ((i * 5 + k) % 7) as f32,
            })
            .collect();
        let w: Vec<f32> = (0..ids.len() * 3)
            .map(|i| (i as f32 * 0.11).cos())
            .collect();
        let (want, want_grad) = with_dfdx(&table, &ids, &w);
        let t: Tensor<Rank2<7, 3>, f32, _> = dev.tensor_from_vec(table, Default::default());
        let n = ids.len();
        let x: Tensor<(usize,), f32, _> = dev.tensor_from_vec(ids, (n,));
        let out = try_embedding_lookup(t.leaky_trace(), &x, (n, Const::<3>)).unwrap();
        assert_eq!(out.retaped::<NoneTape>().as_vec(), want);
        let w: Tensor<(usize, Const<3>), f32, _> = dev.tensor_from_vec(w, (n, Const));
        let grads = (out * w).sum().backward();
        assert_eq!(grads.get(&t).as_vec(), want_grad);
    }

    #[test]
    fn a_permuted_view_of_ids_is_read_in_row_major_order() {
        let dev = Cpu::default();
        let table: Tensor<Rank2<4, 1>, f32, _> = dev.tensor([[10.0], [11.0], [12.0], [13.0]]);
        let ids: Tensor<Rank2<2, 3>, f32, _> = dev.tensor([[0.0, 1.0, 2.0], [3.0, 2.0, 1.0]]);
        let ids = ids.permute::<Rank2<3, 2>, _>();
        let out = try_embedding_lookup(table, &ids, (Const::<6>, Const::<1>)).unwrap();
        assert_eq!(
            out.array(),
            [[10.0], [13.0], [11.0], [12.0], [12.0], [11.0]]
        );
    }

    #[test]
    fn a_wrong_output_size_is_an_error_and_no_ids_give_no_rows() {
        let dev = Cpu::default();
        let table: Tensor<Rank2<4, 2>, f32, _> = dev.zeros();
        let ids: Tensor<Rank1<3>, f32, _> = dev.zeros();
        assert!(matches!(
            Cpu::try_embedding_lookup(table.clone(), &ids, (Const::<3>, Const::<3>)),
            Err(CpuError::WrongNumElements)
        ));
        let none: Tensor<(usize,), f32, _> = dev.zeros_like(&(0,));
        let rows = try_embedding_lookup(table.leaky_trace(), &none, (0, Const::<2>)).unwrap();
        assert_eq!(rows.shape().0, 0);
    }

    #[test]
    fn the_first_bad_id_is_found_where_the_ids_lie() {
        let dev = Cpu::default();
        let ids: Tensor<Rank1<4>, f32, _> = dev.tensor([1.0, 3.0, -2.0, 9.0]);
        assert_eq!(Cpu::try_first_bad_id(&ids, 4).unwrap(), Some((2, -2.0)));
        assert_eq!(Cpu::try_first_bad_id(&ids, 10).unwrap(), Some((2, -2.0)));
        let good: Tensor<Rank1<2>, f32, _> = dev.tensor([0.0, 3.0]);
        assert_eq!(Cpu::try_first_bad_id(&good, 4).unwrap(), None);
    }
}
