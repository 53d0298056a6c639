//! `metric.cu`'s `keras_mean_update`, run on the CPU by the emulation (`cuda-emulation`) with the
//! plan `cuda_kernel.rs` launches, against the CPU kernel: every [`RowMetric`] form, with and
//! without weights, on batches larger than the block.

use super::{cpu_update, launch::plan, launch::MEAN_UPDATE, MeanBatch, RowMetric};
use crate::kernels::emulation::{address, launch, samples::assert_close, samples::Samples};

/// Every form, with parameters that take each branch of the kernel.
fn every_form() -> Vec<RowMetric> {
    vec![
        RowMetric::Value,
        RowMetric::ArgmaxIsLabel,
        RowMetric::ArgmaxesAgree,
        RowMetric::ThresholdedMatches { threshold: 0.5 },
        RowMetric::ThresholdedMatches { threshold: 0.3 },
        RowMetric::ExactMatches,
        RowMetric::SquaredError,
        RowMetric::AbsoluteError,
        RowMetric::SparseCrossentropy { from_logits: true },
        RowMetric::SparseCrossentropy { from_logits: false },
        RowMetric::CategoricalCrossentropy {
            from_logits: true,
            label_smoothing: 0.0,
        },
        RowMetric::CategoricalCrossentropy {
            from_logits: false,
            label_smoothing: 0.1,
        },
        RowMetric::CategoricalCrossentropy {
            from_logits: false,
            label_smoothing: 0.0,
        },
        RowMetric::BinaryCrossentropy {
            from_logits: true,
            label_smoothing: 0.2,
        },
        RowMetric::BinaryCrossentropy {
            from_logits: false,
            label_smoothing: 0.0,
        },
        RowMetric::LabelInTopK { k: 1 },
        RowMetric::LabelInTopK { k: 3 },
        RowMetric::ArgmaxInTopK { k: 2 },
        RowMetric::AbsolutePercentageError,
        RowMetric::SquaredLogarithmicError,
        RowMetric::KlDivergence,
        RowMetric::Poisson,
        RowMetric::CosineSimilarity,
        RowMetric::LogCosh,
        RowMetric::CategoricalHinge,
        RowMetric::Hinge { squared: false },
        RowMetric::Hinge { squared: true },
        RowMetric::PearsonCorrelation,
        RowMetric::ConcordanceCorrelation,
        RowMetric::PredictionMean,
        RowMetric::PredictionSum,
    ]
}

/// Labels for `form`: class ids for sparse forms, 0/1 (one-hot for the categorical forms,
/// `binary` 0/1 else ±1 for the hinge forms), else values in `[0, 1)`.
fn labels(form: RowMetric, s: &mut Samples, rows: usize, cols: usize, binary: bool) -> Vec<f32> {
    if form.sparse_labels() {
        return s.ids(rows, cols);
    }
    match form {
        RowMetric::ArgmaxesAgree
        | RowMetric::CategoricalCrossentropy { .. }
        | RowMetric::ArgmaxInTopK { .. }
        | RowMetric::CategoricalHinge => s
            .ids(rows, cols)
            .iter()
            .flat_map(|&c| (0..cols).map(move |j| if j as f32 == c { 1.0 } else { 0.0 }))
            .collect(),
        RowMetric::ThresholdedMatches { .. } | RowMetric::BinaryCrossentropy { .. } => {
            s.ids(rows * cols, 2)
        }
        RowMetric::Hinge { .. } => s
            .ids(rows * cols, 2)
            .iter()
            .map(|&t| if binary { t } else { 2.0 * t - 1.0 })
            .collect(),
        RowMetric::ExactMatches => s.ids(rows * cols, 3),
        _ => s.between(rows * cols, 0.0, 1.0),
    }
}

/// Adds one batch to a state at offset 2 (of 6 floats) on the CPU kernel and on the emulated
/// CUDA kernel, and returns both states.
fn both(form: RowMetric, rows: usize, cols: usize, weighted: bool, binary: bool) -> [Vec<f32>; 2] {
    let mut s = Samples::new(rows as u64 * 31 + cols as u64);
    let y_pred = if matches!(form, RowMetric::ExactMatches) {
        s.ids(rows * cols, 3)
    } else {
        s.between(rows * cols, 0.01, 1.0)
    };
    let y_true = labels(form, &mut s, rows, cols, binary);
    let weights = weighted.then(|| s.between(rows, 0.0, 2.0));
    let batch = MeanBatch {
        y_pred: &y_pred[..],
        y_true: &y_true[..],
        weights: weights.as_deref(),
        unit_weight: if weighted { 1.0 } else { 3.0 },
        rows,
        cols,
    };
    let start = vec![9.0, 9.0, 0.5, 1.5, 9.0, 9.0];
    let mut cpu = start.clone();
    cpu_update(form, &batch, &mut cpu[2..4]);
    let mut emulated = start;
    let state = (emulated.as_mut_ptr() as u64, emulated.len());
    let (shape, params) = plan(form, &batch, <[f32]>::len, address, state, 2).expect("fits");
    // SAFETY: the plan checked every buffer's length; `emulated` is written only through the
    // kernel for the call.
    unsafe { launch(MEAN_UPDATE, shape, &params) }.expect("the kernel runs");
    [cpu, emulated]
}

#[test]
fn every_form_adds_what_the_cpu_kernel_adds() {
    let forms = every_form();
    let mut codes: Vec<u32> = forms.iter().map(|f| f.code().0).collect();
    codes.dedup();
    assert_eq!(
        codes,
        (0..27).collect::<Vec<_>>(),
        "every ROW_* code is tested"
    );
    for form in forms {
        for (rows, cols) in [(1, 1), (7, 3), (300, 5)] {
            if form.indexes_by_label() && cols < 2 {
                continue;
            }
            for weighted in [false, true] {
                let [cpu, emulated] = both(form, rows, cols, weighted, true);
                let what = format!("{form:?}, {rows}x{cols}, weighted {weighted}");
                assert_close(&what, &emulated, &cpu, 2e-5);
                assert_eq!(emulated[..2], [9.0, 9.0], "{what}: writes only its state");
                assert_eq!(emulated[4..], [9.0, 9.0], "{what}: writes only its state");
            }
        }
    }
}

#[test]
fn hinge_maps_labels_only_when_the_whole_batch_is_binary() {
    for squared in [false, true] {
        let form = RowMetric::Hinge { squared };
        for binary in [true, false] {
            let [cpu, emulated] = both(form, 300, 4, false, binary);
            assert_close(&format!("{form:?} binary {binary}"), &emulated, &cpu, 2e-5);
        }
    }
}

#[test]
fn a_short_buffer_is_not_launched() {
    let y = [0.5f32; 4];
    let batch = MeanBatch {
        y_pred: &y[..],
        y_true: &y[..],
        weights: None,
        unit_weight: 1.0,
        rows: 3,
        cols: 2,
    };
    let state = (0u64, 2usize);
    assert!(plan(
        RowMetric::SquaredError,
        &batch,
        <[f32]>::len,
        address,
        state,
        0
    )
    .is_none());
}
