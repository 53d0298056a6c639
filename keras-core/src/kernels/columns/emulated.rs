//! `columns.cu`'s `keras_column_update`, run on the CPU by the emulation (`cuda-emulation`) with
//! the plan `cuda_kernel.rs` launches, against the CPU kernel: every [`ColumnSums`] (the F-score
//! with a threshold and with each row's maximum, R²), one slot per column and one for all, with
//! and without weights, on batches whose threads loop, into a state at a non-zero offset
//! between values the kernel must not touch.
//!
//! Most cases draw every value on a grid of eighths (predictions, labels, weights, starting
//! sums), so that each sum is exact in any order and the sums must agree bit for bit; one test
//! draws arbitrary floats and allows the rounding of the GPU's tree order (see
//! [`arbitrary_floats_add_what_the_cpu_kernel_adds_to_rounding`]).

use super::launch::{plan, UPDATE};
use super::{cpu_update, ColumnForm, ColumnSums};
use crate::kernels::emulation::samples::{
    assert_close, between_sentinels, HostBatch, Samples, SENTINEL,
};
use crate::kernels::emulation::{address, launch};
use crate::kernels::Launch;

/// Values of the state before the sums.
const BEFORE: usize = 5;

/// Values of the state after the sums.
const AFTER: usize = 2;

/// A batch ([`HostBatch`]), with this kernel's draws and runs.
struct Case(HostBatch);

impl std::ops::Deref for Case {
    type Target = HostBatch;
    fn deref(&self) -> &HostBatch {
        &self.0
    }
}

impl Case {
    /// A batch on the grid of eighths: predictions in `[-0.25, 1.25]` (NaN at every `29`th
    /// with `nan`, `-0` at every `31`st, every `11`th row all zeros), labels in
    /// `{0, 0.25, ..., 1}`, weights in `[0, 2]`.
    fn eighths(rows: usize, cols: usize, weighted: bool, nan: bool, seed: u64) -> Self {
        let mut s = Samples::new(seed);
        let n = rows * cols;
        let mut y_pred: Vec<f32> = s.ids(n, 13).iter().map(|&v| (v - 2.0) / 8.0).collect();
        for (e, p) in y_pred.iter_mut().enumerate() {
            if nan && e % 29 == 28 {
                *p = f32::NAN;
            } else if e % 31 == 30 || (e / cols.max(1)) % 11 == 10 {
                *p = -0.0;
            }
        }
        let y_true = s.ids(n, 5).iter().map(|&v| v / 4.0).collect();
        let weights = weighted.then(|| s.ids(rows, 17).iter().map(|&v| v / 8.0).collect());
        Case(HostBatch {
            rows,
            cols,
            y_pred,
            y_true,
            weights,
        })
    }

    /// A batch of arbitrary floats: predictions in `[-0.2, 1.2)`, labels in `[0, 1)`, weights
    /// in `[0, 2)`.
    fn arbitrary(rows: usize, cols: usize, seed: u64) -> Self {
        let mut s = Samples::new(seed);
        let n = rows * cols;
        Case(HostBatch {
            rows,
            cols,
            y_pred: s.between(n, -0.2, 1.2),
            y_true: s.between(n, 0.0, 1.0),
            weights: Some(s.between(rows, 0.0, 2.0)),
        })
    }

    /// A state holding `start` as the sums of `form` at its offset, between sentinels.
    fn state(form: &ColumnForm, start: &[f32]) -> Vec<f32> {
        assert_eq!(form.offset, BEFORE);
        assert_eq!(start.len(), form.len());
        between_sentinels(BEFORE, start, AFTER)
    }

    /// The state after this batch, from `start`, on the CPU kernel.
    fn on_cpu(&self, form: &ColumnForm, start: &[f32]) -> Vec<f32> {
        let mut state = Self::state(form, start);
        let weights = self.weights.as_deref();
        cpu_update(
            form,
            &self.y_true,
            &self.y_pred,
            self.cols,
            weights,
            &mut state,
        );
        state
    }

    /// The state after this batch, from `start`, on the emulated CUDA kernel, and the launch's
    /// shape (`None` when nothing was launched).
    fn emulated(&self, form: &ColumnForm, start: &[f32]) -> (Vec<f32>, Option<Launch>) {
        let mut state = Self::state(form, start);
        let target = (state.as_mut_ptr() as u64, state.len());
        let batch = self.mean_batch();
        let planned = plan(form, &batch, <[f32]>::len, address, target);
        let planned = planned.expect("the batch fits the form");
        if let Some((shape, params)) = planned {
            // SAFETY: the plan checked every buffer's length; `state` is written only through
            // the kernel for the call.
            unsafe { launch(UPDATE, shape, &params) }.expect("the kernel runs");
        }
        (state, planned.map(|(shape, _)| shape))
    }
}

/// A form of `sums` with `slots` slots, at offset [`BEFORE`].
fn form(sums: ColumnSums, slots: usize) -> ColumnForm {
    ColumnForm {
        sums,
        slots,
        offset: BEFORE,
    }
}

/// Every sum the kernel computes, with thresholds at the predictions' values, each with the
/// columns of its batch, one slot per column and one for all.
fn every_form() -> Vec<(ColumnForm, usize)> {
    let mut forms = Vec::new();
    let sums = [
        ColumnSums::FScore {
            threshold: Some(0.5),
        },
        ColumnSums::FScore {
            threshold: Some(0.0),
        },
        ColumnSums::FScore {
            threshold: Some(1.0),
        },
        ColumnSums::FScore { threshold: None },
        ColumnSums::R2,
    ];
    for sums in sums {
        for cols in [1, 4] {
            forms.push((form(sums, cols), cols));
            if cols > 1 {
                forms.push((form(sums, 1), cols));
            }
        }
    }
    forms
}

/// Starting sums on the grid of quarters, none of them zero.
fn start(form: &ColumnForm) -> Vec<f32> {
    (0..form.len()).map(|i| (i % 7 + 1) as f32 / 4.0).collect()
}

#[test]
fn every_form_adds_what_the_cpu_kernel_adds_bit_for_bit() {
    for (form, cols) in every_form() {
        let start = start(&form);
        // 700 rows: more than a block's 256 threads, so every thread loops.
        for rows in [0, 1, 37, 700] {
            for weighted in [false, true] {
                let seed = (rows * 7 + cols) as u64 + u64::from(weighted);
                // NaN predictions make R²'s sums NaN; the F-score counts them as negatives.
                let nan = form.sums != ColumnSums::R2;
                let case = Case::eighths(rows, cols, weighted, nan, seed);
                let what = format!("{form:?}, {rows}x{cols}, weighted {weighted}");
                let cpu = case.on_cpu(&form, &start);
                let (emulated, shape) = case.emulated(&form, &start);
                assert_eq!(emulated, cpu, "{what}");
                assert_eq!(emulated[..BEFORE], [SENTINEL; BEFORE], "{what}: before");
                assert_eq!(emulated[BEFORE + form.len()..], [SENTINEL; AFTER], "{what}");
                let shape = shape.expect("a form with slots is launched");
                assert_eq!(shape.grid as usize, form.slots, "{what}: a block per slot");
                if rows > 1 {
                    assert_ne!(cpu, Case::state(&form, &start), "{what}: the batch adds");
                }
            }
        }
    }
}

/// With arbitrary floats the sums round: the CPU kernel adds the elements in order (R² column
/// by column), the kernel adds each thread's elements then a block's threads in a tree. The
/// sums agree to within a few float roundings of the largest sum.
#[test]
fn arbitrary_floats_add_what_the_cpu_kernel_adds_to_rounding() {
    for (form, cols) in every_form() {
        let case = Case::arbitrary(900, cols, 13);
        let start = vec![0.0; form.len()];
        let (emulated, _) = case.emulated(&form, &start);
        let cpu = case.on_cpu(&form, &start);
        let largest = cpu.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // `assert_close` compares within `rel * max(|want|, 1)`: a bound of `2e-6 * largest`.
        assert_close(&format!("{form:?}"), &emulated, &cpu, 2e-6 * largest);
        assert_ne!(
            emulated,
            Case::state(&form, &start),
            "{form:?}: the batch adds"
        );
    }
}

#[test]
fn a_batch_or_a_form_that_does_not_fit_is_not_launched() {
    let base = form(ColumnSums::R2, 3);
    let len = BEFORE + base.len() + AFTER;
    let try_plan = |form: &ColumnForm, case: &Case, state_len: usize| {
        plan(
            form,
            &case.mean_batch(),
            <[f32]>::len,
            address,
            (0, state_len),
        )
        .map(|p| p.map(|p| p.0))
    };
    let case = Case::eighths(4, 3, true, false, 1);
    assert_eq!(
        try_plan(&base, &case, len),
        Ok(Some(Launch {
            grid: 3,
            grid_y: 1,
            block: 256,
            shared_bytes: 0
        }))
    );
    for (what, short) in case.each_one_short() {
        assert_eq!(try_plan(&base, &Case(short), len), Err(()), "{what}");
    }
    assert_eq!(
        try_plan(&form(ColumnSums::R2, 2), &case, len),
        Err(()),
        "slots"
    );
    assert_eq!(
        try_plan(&base, &case, BEFORE + base.len() - 1),
        Err(()),
        "state"
    );
    let f_score = form(ColumnSums::FScore { threshold: None }, 3);
    assert_eq!(
        try_plan(&f_score, &case, BEFORE + 4 * 3),
        Ok(Some(Launch {
            grid: 3,
            grid_y: 1,
            block: 256,
            shared_bytes: 0
        })),
        "the F-score has no sample count"
    );
    assert_eq!(
        try_plan(
            &form(ColumnSums::R2, 0),
            &Case::eighths(4, 0, true, false, 1),
            len
        ),
        Ok(None),
        "no slot: nothing to launch"
    );
}
