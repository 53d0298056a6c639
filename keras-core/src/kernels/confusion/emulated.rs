//! `confusion.cu`'s `keras_confusion_update`, run on the CPU by the emulation (`cuda-emulation`)
//! with the plan `cuda_kernel.rs` launches, against the CPU kernel: both comparisons (with and
//! without AUC's epsilon), `top_k`, `class_id`, `multi_label`, label weights and logits, with and
//! without sample weights, on a grid of several blocks whose threads loop over the batch, into a
//! state at a non-zero offset between values the kernel must not touch.
//!
//! Most cases draw every value on a grid of eighths (predictions, thresholds, weights, starting
//! counts), so that each sum is exact in any order and the counts must agree bit for bit; one
//! test draws arbitrary floats and allows the rounding of the GPU's tree order (see
//! [`arbitrary_floats_add_what_the_cpu_kernel_adds_to_rounding`]).

use std::borrow::Cow;

use super::launch::{plan, UPDATE};
use super::{cpu_update, Comparison, ConfusionConsts, ConfusionForm};
use crate::kernels::emulation::samples::{
    assert_close, between_sentinels, HostBatch, Samples, SENTINEL,
};
use crate::kernels::emulation::{address, launch};
use crate::kernels::{Launch, MeanBatch};

/// Values of the state before the counts.
const BEFORE: usize = 3;

/// Values of the state after the counts.
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
    /// A batch on the grid of eighths: predictions in `[-0.25, 1.25]` (logits in `[-4, 4]`)
    /// with every `29`th a NaN and every `31`st a `-0`, labels in `{0, 0.5, 1}` (any non-zero
    /// label is true), weights in `[0, 2]`.
    fn eighths(rows: usize, cols: usize, weighted: bool, logits: bool, seed: u64) -> Self {
        let mut s = Samples::new(seed);
        let n = rows * cols;
        let mut y_pred: Vec<f32> = if logits {
            s.ids(n, 65).iter().map(|&v| (v - 32.0) / 8.0).collect()
        } else {
            s.ids(n, 13).iter().map(|&v| (v - 2.0) / 8.0).collect()
        };
        for (e, p) in y_pred.iter_mut().enumerate() {
            if e % 29 == 28 {
                *p = f32::NAN;
            } else if e % 31 == 30 {
                *p = -0.0;
            }
        }
        let y_true = s.ids(n, 3).iter().map(|&v| v / 2.0).collect();
        let weights = weighted.then(|| s.ids(rows, 17).iter().map(|&v| v / 8.0).collect());
        Case(HostBatch {
            rows,
            cols,
            y_pred,
            y_true,
            weights,
        })
    }

    /// A batch of arbitrary floats: predictions in `[-0.2, 1.2)`, 0/1 labels, weights in
    /// `[0, 2)`.
    fn arbitrary(rows: usize, cols: usize, seed: u64) -> Self {
        let mut s = Samples::new(seed);
        let n = rows * cols;
        Case(HostBatch {
            rows,
            cols,
            y_pred: s.between(n, -0.2, 1.2),
            y_true: s.ids(n, 2),
            weights: Some(s.between(rows, 0.0, 2.0)),
        })
    }

    /// A state holding `start` as the counts of `form` at its offset, between sentinels.
    fn state(form: &ConfusionForm<'_>, start: &[f32]) -> Vec<f32> {
        assert_eq!(form.offset, BEFORE);
        assert_eq!(start.len(), 4 * form.len());
        between_sentinels(BEFORE, start, AFTER)
    }

    /// The state after this batch, from `start`, on the CPU kernel.
    fn on_cpu(&self, form: &ConfusionForm<'_>, start: &[f32]) -> Vec<f32> {
        let mut state = Self::state(form, start);
        let weights = self.weights.as_deref();
        cpu_update(
            form,
            &self.y_true,
            &self.y_pred,
            self.cols,
            weights,
            &mut state,
        )
        .expect("the CPU kernel takes the batch");
        state
    }

    /// The state after this batch, from `start`, on the emulated CUDA kernel, and the launch's
    /// shape (`None` when nothing was launched).
    fn emulated(&self, form: &ConfusionForm<'_>, start: &[f32]) -> (Vec<f32>, Option<Launch>) {
        let mut state = Self::state(form, start);
        let consts = ConfusionConsts {
            thresholds: form.thresholds.to_vec(),
            label_weights: form.label_weights.as_ref().map(|lw| lw.to_vec()),
        };
        let batch = self.vec_batch();
        let target = (state.as_mut_ptr() as u64, state.len());
        let planned = plan(form, &consts, &batch, Vec::len, |v| address(v), target);
        let planned = planned.expect("the batch fits the form");
        if let Some((shape, params)) = planned {
            // SAFETY: the plan checked every buffer's length; `state` is written only through
            // the kernel for the call.
            unsafe { launch(UPDATE, shape, &params) }.expect("the kernel runs");
        }
        (state, planned.map(|(shape, _)| shape))
    }
}

/// A form with `thresholds` compared by `comparison`, counting at offset [`BEFORE`], its label
/// columns the ones `cols` columns give it.
fn form(
    thresholds: Vec<f32>,
    comparison: Comparison,
    cols: usize,
    set: impl FnOnce(&mut ConfusionForm<'static>),
) -> ConfusionForm<'static> {
    let mut form = ConfusionForm {
        thresholds: Cow::Owned(thresholds),
        comparison,
        labels: 1,
        top_k: None,
        class_id: None,
        multi_label: false,
        label_weights: None,
        from_logits: false,
        offset: BEFORE,
    };
    set(&mut form);
    form.labels = form.labels_for(cols);
    form
}

/// `t` evenly spaced thresholds from 0 to 1, the end points moved out by an epsilon with
/// `with_epsilon` (Keras's grid for the bucketed comparison).
fn grid(t: usize, with_epsilon: bool) -> Vec<f32> {
    let mut thresholds: Vec<f32> = (0..t).map(|i| i as f32 / (t - 1) as f32).collect();
    if with_epsilon {
        thresholds[0] = -1e-7;
        thresholds[t - 1] = 1.0 + 1e-7;
    }
    thresholds
}

/// Thresholds on the grid of eighths, below, at and above the predictions' range, so that
/// predictions equal to a threshold are common.
fn edges() -> Vec<f32> {
    vec![-0.125, 0.0, 0.5, 1.0, 1.25]
}

/// Label weights on the grid of eighths, one per column.
fn label_weights(cols: usize) -> Option<Cow<'static, [f32]>> {
    Some(Cow::Owned(
        (0..cols).map(|c| (c % 5 + 1) as f32 / 8.0 + 0.5).collect(),
    ))
}

/// Every form the kernel computes, each with the columns of its batch: both comparisons, with
/// and without the epsilon, and every option of the selection and the weighting.
fn every_form() -> Vec<(ConfusionForm<'static>, usize)> {
    let above = Comparison::Above;
    let buckets = Comparison::Buckets {
        with_epsilon: false,
    };
    let auc = Comparison::Buckets { with_epsilon: true };
    vec![
        // Precision and Recall on one output, on flattened columns.
        (form(vec![0.5], above, 1, |_| ()), 1),
        (form(vec![0.5], above, 3, |_| ()), 3),
        // The rate-at metrics' and the condition counts' thresholds, at the predictions' values.
        (form(edges(), above, 4, |_| ()), 4),
        // top_k alone, with a class id, with logits.
        (form(edges(), above, 5, |f| f.top_k = Some(1)), 5),
        (
            form(vec![0.0, 0.5], above, 5, |f| {
                f.top_k = Some(3);
                f.class_id = Some(2);
            }),
            5,
        ),
        (
            form(vec![0.5, 0.75], above, 4, |f| {
                f.top_k = Some(2);
                f.from_logits = true;
            }),
            4,
        ),
        // A class id alone, the last column.
        (form(edges(), above, 3, |f| f.class_id = Some(2)), 3),
        // Label weights, flattened; ignored with multi_label.
        (
            form(edges(), above, 4, |f| f.label_weights = label_weights(4)),
            4,
        ),
        (
            form(edges(), above, 3, |f| {
                f.multi_label = true;
                f.label_weights = label_weights(3);
            }),
            3,
        ),
        // multi_label with a class id: one label column.
        (
            form(edges(), above, 3, |f| {
                f.multi_label = true;
                f.class_id = Some(1);
            }),
            3,
        ),
        // Logits through a sigmoid first.
        (
            form(vec![0.25, 0.5, 0.875], above, 3, |f| f.from_logits = true),
            3,
        ),
        // The bucketed comparison (5 thresholds: bucket edges at the quarters, so that half the
        // predictions sit on an edge), with and without the epsilon, with every option.
        (form(grid(5, false), buckets, 3, |_| ()), 3),
        (
            form(grid(5, true), auc, 3, |f| {
                f.label_weights = label_weights(3)
            }),
            3,
        ),
        (form(grid(5, true), auc, 3, |f| f.multi_label = true), 3),
        (form(grid(5, false), buckets, 4, |f| f.top_k = Some(2)), 4),
        (
            form(grid(5, true), auc, 3, |f| {
                f.class_id = Some(0);
                f.multi_label = true;
            }),
            3,
        ),
        // AUC from logits, on a finer grid (edges at the eighths).
        (form(grid(9, true), auc, 2, |f| f.from_logits = true), 2),
    ]
}

/// Starting counts on the grid of quarters, none of them zero.
fn start(form: &ConfusionForm<'_>) -> Vec<f32> {
    (0..4 * form.len())
        .map(|i| (i % 7 + 1) as f32 / 4.0)
        .collect()
}

#[test]
fn every_form_adds_what_the_cpu_kernel_adds_bit_for_bit() {
    let forms = every_form();
    let has = |p: fn(&ConfusionForm<'_>) -> bool| forms.iter().any(|(f, _)| p(f));
    assert!(has(|f| f.comparison == Comparison::Above));
    assert!(has(|f| f.comparison
        == Comparison::Buckets {
            with_epsilon: false
        }));
    assert!(has(
        |f| f.comparison == Comparison::Buckets { with_epsilon: true }
    ));
    assert!(has(|f| f.top_k.is_some() && f.class_id.is_some()));
    assert!(has(|f| f.multi_label && f.labels > 1));
    assert!(has(|f| f.label_weights.is_some() && !f.multi_label));
    assert!(has(|f| f.from_logits && f.top_k.is_some()));
    for (form, cols) in &forms {
        let start = start(form);
        // An empty batch, fewer elements than a block's 256 threads, and more (700 rows: every
        // thread loops), each with and without weights.
        for (rows, weighted) in [(0, true), (1, false), (37, true), (700, false), (700, true)] {
            let seed = (rows * 7 + cols) as u64 + u64::from(weighted);
            let case = Case::eighths(rows, *cols, weighted, form.from_logits, seed);
            let what = format!("{form:?}, {rows}x{cols}, weighted {weighted}");
            let cpu = case.on_cpu(form, &start);
            let (emulated, shape) = case.emulated(form, &start);
            assert_eq!(emulated, cpu, "{what}");
            assert_eq!(emulated[..BEFORE], [SENTINEL; BEFORE], "{what}: before");
            assert_eq!(
                emulated[BEFORE + 4 * form.len()..],
                [SENTINEL; AFTER],
                "{what}"
            );
            let shape = shape.expect("a form with counts is launched");
            assert_eq!(shape.grid as usize, form.thresholds.len(), "{what}");
            assert_eq!(shape.grid_y as usize, form.labels, "{what}");
            if rows > 1 {
                assert_ne!(cpu, Case::state(form, &start), "{what}: the batch counts");
            }
        }
    }
}

/// With arbitrary floats the sums round: the CPU kernel adds the elements in order (and takes
/// the bucketed `tn` and `fn` as complements of running sums), the kernel adds each thread's
/// elements then a block's threads in a tree. The counts agree to within a few float roundings
/// of the batch's total weight.
#[test]
fn arbitrary_floats_add_what_the_cpu_kernel_adds_to_rounding() {
    let cases = [
        (
            form(vec![0.1, 0.3, 0.5, 0.7, 0.9], Comparison::Above, 4, |f| {
                f.label_weights = Some(Cow::Owned(vec![0.3, 1.7, 0.9, 1.1]));
            }),
            4,
        ),
        // AUC's default grid of 200 thresholds.
        (
            form(
                grid(200, true),
                Comparison::Buckets { with_epsilon: true },
                3,
                |_| (),
            ),
            3,
        ),
        (
            form(
                grid(17, false),
                Comparison::Buckets {
                    with_epsilon: false,
                },
                3,
                |f| f.multi_label = true,
            ),
            3,
        ),
    ];
    for (form, cols) in &cases {
        let case = Case::arbitrary(900, *cols, 11);
        let total: f32 = case.weights.iter().flatten().sum::<f32>() * *cols as f32 * 1.7;
        let start = vec![0.0; 4 * form.len()];
        let (emulated, _) = case.emulated(form, &start);
        let cpu = case.on_cpu(form, &start);
        // `assert_close` compares within `rel * max(|want|, 1)`: a bound of `2e-6 * total`.
        assert_close(&format!("{form:?}"), &emulated, &cpu, 2e-6 * total);
        assert_ne!(
            emulated,
            Case::state(form, &start),
            "{form:?}: the batch counts"
        );
    }
}

#[test]
fn a_batch_or_a_form_that_does_not_fit_is_not_launched() {
    let base = form(edges(), Comparison::Above, 3, |f| {
        f.label_weights = label_weights(3);
    });
    let case = Case::eighths(4, 3, true, false, 1);
    let state = (0u64, BEFORE + 4 * base.len() + AFTER);
    let try_plan = |form: &ConfusionForm<'_>, case: &Case, state: (u64, usize)| {
        let consts = ConfusionConsts {
            thresholds: form.thresholds.to_vec(),
            label_weights: form.label_weights.as_ref().map(|lw| lw.to_vec()),
        };
        let batch = case.vec_batch();
        plan(form, &consts, &batch, Vec::len, |v| address(v), state).map(|p| p.map(|p| p.0))
    };
    let shape = try_plan(&base, &case, state)
        .expect("fits")
        .expect("launched");
    assert_eq!(
        shape,
        Launch {
            grid: 5,
            grid_y: 1,
            block: 256,
            shared_bytes: 0
        }
    );
    for (what, short) in case.each_one_short() {
        assert_eq!(try_plan(&base, &Case(short), state), Err(()), "{what}");
    }
    let changed = |f: fn(&mut ConfusionForm<'static>)| {
        let mut form = base.clone();
        f(&mut form);
        try_plan(&form, &case, state)
    };
    assert_eq!(
        changed(|f| f.label_weights = label_weights(2)),
        Err(()),
        "label weights"
    );
    assert_eq!(changed(|f| f.class_id = Some(3)), Err(()), "class id");
    assert_eq!(changed(|f| f.top_k = Some(4)), Err(()), "top k");
    assert_eq!(changed(|f| f.labels = 3), Err(()), "label columns");
    assert_eq!(changed(|f| f.offset = BEFORE + AFTER + 1), Err(()), "state");
    assert_eq!(
        changed(|f| f.thresholds = Cow::Owned(vec![])),
        Ok(None),
        "no counts: nothing to launch"
    );
    // The constants must be the form's: one threshold more on the device is refused.
    let consts = ConfusionConsts {
        thresholds: vec![0.5; 8],
        label_weights: None,
    };
    let batch = MeanBatch {
        y_pred: &case.y_pred,
        y_true: &case.y_true,
        weights: None,
        unit_weight: 1.0,
        rows: case.rows,
        cols: case.cols,
    };
    let planned = plan(&base, &consts, &batch, Vec::len, |v| address(v), state);
    assert!(planned.is_err(), "thresholds");
}
