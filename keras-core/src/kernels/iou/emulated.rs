//! `iou.cu`'s `keras_iou_update`, run on the CPU by the emulation (`cuda-emulation`) with the
//! plan `cuda_kernel.rs` launches, against the CPU kernel: every way of reading class ids, over
//! several blocks, in shared memory and in global memory, with weights and an ignored class.

use super::launch::{plan, UPDATE};
use super::{bad_prediction, cpu_update, ClassIds, IouForm};
use crate::kernels::emulation::samples::{HostBatch, Samples};
use crate::kernels::emulation::{address, launch};

/// A batch of `rows` for `form`: labels and predictions drawn to suit its ways of reading ids,
/// `bad` predicted ids out of range (sparse predictions only), weights when `weights`.
struct Case {
    form: IouForm,
    batch: HostBatch,
}

impl Case {
    fn new(form: IouForm, rows: usize, cols: usize, weights: bool, seed: u64) -> Self {
        let mut s = Samples::new(seed);
        let k = form.classes;
        let y_true = match form.truth {
            ClassIds::ArgMax => s.between(rows * cols, 0.0, 1.0),
            _ => s.ids(form.labels(rows, cols), k),
        };
        let y_pred = match form.pred {
            ClassIds::Values => s.ids(rows * cols, k),
            _ => s.between(rows * cols, 0.0, 1.0),
        };
        // Integer, fractional (truncated) and zero weights.
        let weights = weights.then(|| s.between(rows, 0.0, 3.5));
        let batch = HostBatch {
            rows,
            cols,
            y_pred,
            y_true,
            weights,
        };
        Case { form, batch }
    }

    /// The counts after this batch, from `start`, on the CPU kernel.
    fn on_cpu(&self, start: &[i64]) -> Vec<i64> {
        let mut counts = start.to_vec();
        let b = &self.batch;
        let w = b.weights.as_deref();
        cpu_update(
            &self.form,
            &b.y_true,
            &b.y_pred,
            b.rows,
            b.cols,
            w,
            &mut counts,
        );
        counts
    }

    /// The counts after this batch, from `start`, on the emulated CUDA kernel.
    fn emulated(&self, start: &[i64]) -> Vec<i64> {
        let mut counts = start.to_vec();
        let target = (counts.as_mut_ptr() as u64, counts.len());
        let batch = self.batch.mean_batch();
        if let Some((shape, params)) =
            plan(&self.form, &batch, <[f32]>::len, address, target).expect("fits")
        {
            // SAFETY: the plan checked every buffer's length; `counts` is written only through
            // the kernel for the call.
            unsafe { launch(UPDATE, shape, &params) }.expect("the kernel runs");
        }
        counts
    }
}

fn form(truth: ClassIds, pred: ClassIds, classes: usize, ignore: Option<i64>) -> IouForm {
    IouForm {
        ignore_class: ignore,
        ..IouForm::for_test(truth, pred, classes)
    }
}

#[test]
fn every_way_of_reading_ids_counts_what_the_cpu_kernel_counts() {
    let forms = [
        // MeanIoU on scores, on ids, OneHotMeanIoU, BinaryIoU.
        (form(ClassIds::Values, ClassIds::ArgMax, 5, None), 5),
        (form(ClassIds::Values, ClassIds::Values, 4, Some(2)), 3),
        (form(ClassIds::ArgMax, ClassIds::ArgMax, 6, Some(0)), 6),
        (form(ClassIds::Values, ClassIds::Threshold(0.4), 2, None), 3),
        // 70² cells do not fit in shared memory: the kernel adds to global memory.
        (form(ClassIds::Values, ClassIds::ArgMax, 70, None), 70),
    ];
    for (f, cols) in forms {
        for rows in [1, 37, 900] {
            for weights in [false, true] {
                let case = Case::new(f, rows, cols, weights, rows as u64 + cols as u64);
                let start = vec![0i64; f.device_len()];
                let cpu = case.on_cpu(&start);
                assert_eq!(
                    case.emulated(&start),
                    cpu,
                    "{f:?}, {rows} rows, weights {weights}"
                );
                if rows > 1 {
                    assert!(
                        cpu.iter().any(|&c| c != 0),
                        "{f:?}: the case counts something"
                    );
                }
                // A second batch adds to the first's counts.
                let next = Case::new(f, rows, cols, weights, 7 * rows as u64 + 1);
                assert_eq!(
                    next.emulated(&cpu),
                    next.on_cpu(&cpu),
                    "{f:?}: a second batch"
                );
            }
        }
    }
}

#[test]
fn predicted_ids_out_of_range_are_skipped_counted_and_the_first_recorded() {
    let f = form(ClassIds::Values, ClassIds::Values, 4, None);
    let mut case = Case::new(f, 600, 1, true, 3);
    let bad = [(17usize, 4.0f32), (250, f32::NAN), (599, -1.0)];
    for &(e, v) in &bad {
        case.batch.y_pred[e] = v;
    }
    let start = vec![0i64; f.device_len()];
    let cpu = case.on_cpu(&start);
    let emulated = case.emulated(&start);
    assert_eq!(
        emulated, cpu,
        "the counts, the count of bad ids and the record"
    );
    assert_eq!(emulated[f.cells()], 3, "every bad prediction is counted");
    // The first in element order, as on the CPU, though the blocks and threads count them in
    // another order.
    let recorded = bad_prediction(&f, &emulated).expect("a record");
    assert_eq!((recorded.index, recorded.value), (17, 4.0));
    // A later batch with bad ids of its own adds to the count and keeps the first record.
    let mut next = Case::new(f, 600, 1, false, 4);
    next.batch.y_pred[3] = 9.0;
    let (cpu, emulated) = (next.on_cpu(&cpu), next.emulated(&emulated));
    assert_eq!(emulated, cpu, "a second batch");
    assert_eq!(emulated[f.cells()], 4);
    assert_eq!(bad_prediction(&f, &emulated).map(|b| b.index), Some(17));
    assert_eq!(bad_prediction(&f, &cpu).map(|b| b.index), Some(17));
}
