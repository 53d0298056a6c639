//! Every stateful metric's state survives a save and a restore: a metric restored from
//! `state_values` gives the same results as the one it was saved from, bit for bit, and keeps
//! giving them as both see more batches (what a `BackupAndRestore` resume in the middle of an
//! epoch needs). A state cut short or made for another configuration is an error that changes
//! nothing.

use keras_core::metrics::{
    Auc, BinaryAccuracy, BinaryIoU, F1Score, FBetaScore, FalseNegatives, MeanIoU, MetricFn,
    PearsonCorrelation, Precision, PrecisionAtRecall, R2Score, Recall, SensitivityAtSpecificity,
    Sum, TruePositives,
};

/// Two batches of three rows of two columns: labels in {0, 1}, scores in (0, 1).
const Y_TRUE: [[f32; 6]; 2] = [
    [1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
    [0.0, 0.0, 1.0, 0.0, 1.0, 1.0],
];
const Y_PRED: [[f32; 6]; 2] = [
    [0.9, 0.2, 0.4, 0.7, 0.6, 0.3],
    [0.1, 0.8, 0.35, 0.55, 0.95, 0.05],
];
const WEIGHTS: [[f32; 3]; 2] = [[1.0, 0.5, 2.0], [1.0, 1.0, 0.25]];

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Updates a metric on batch 0, restores its state into a fresh one, checks the results agree,
/// then feeds both batch 1 and checks again.
fn survives_a_restore<M: MetricFn>(
    make: impl Fn() -> M,
    y_true: [&[f32]; 2],
    y_pred: [&[f32]; 2],
    cols: usize,
) {
    let mut saved = make();
    let name = saved.name().to_string();
    saved
        .update_state(
            y_true[0],
            y_pred[0],
            cols,
            Some(&WEIGHTS[0][..y_pred[0].len() / cols]),
        )
        .unwrap();
    let state = saved
        .state_values()
        .unwrap_or_else(|| panic!("{name} exports no state"));
    let mut restored = make();
    restored.load_state_values(&state).unwrap();
    assert_eq!(
        bits(&restored.result_values()),
        bits(&saved.result_values()),
        "{name}"
    );
    for m in [&mut saved, &mut restored] {
        m.update_state(
            y_true[1],
            y_pred[1],
            cols,
            Some(&WEIGHTS[1][..y_pred[1].len() / cols]),
        )
        .unwrap();
    }
    assert_eq!(
        bits(&restored.result_values()),
        bits(&saved.result_values()),
        "{name}"
    );
    // A state cut short is an error and changes nothing.
    let before = bits(&restored.result_values());
    assert!(
        restored
            .load_state_values(&state[..state.len() - 1])
            .is_err(),
        "{name}"
    );
    assert_eq!(bits(&restored.result_values()), before, "{name}");
}

#[test]
fn threshold_and_curve_metrics_restore_their_confusion_counts() {
    let t = [&Y_TRUE[0][..], &Y_TRUE[1][..]];
    let p = [&Y_PRED[0][..], &Y_PRED[1][..]];
    survives_a_restore(Auc::new, t, p, 2);
    survives_a_restore(|| Auc::new().with_multi_label(Some(2)).unwrap(), t, p, 2);
    survives_a_restore(Precision::new, t, p, 2);
    survives_a_restore(Recall::new, t, p, 2);
    survives_a_restore(TruePositives::default, t, p, 2);
    survives_a_restore(FalseNegatives::default, t, p, 2);
    survives_a_restore(|| PrecisionAtRecall::new(0.5).unwrap(), t, p, 2);
    survives_a_restore(|| SensitivityAtSpecificity::new(0.5).unwrap(), t, p, 2);
    survives_a_restore(BinaryAccuracy::default, t, p, 2);
}

#[test]
fn f_scores_r2_and_iou_restore_their_sums() {
    let t = [&Y_TRUE[0][..], &Y_TRUE[1][..]];
    let p = [&Y_PRED[0][..], &Y_PRED[1][..]];
    survives_a_restore(F1Score::default, t, p, 2);
    survives_a_restore(|| FBetaScore::new(2.0).unwrap(), t, p, 2);
    survives_a_restore(R2Score::default, t, p, 2);
    survives_a_restore(PearsonCorrelation::default, t, p, 2);
    // Class ids against predicted ids, three classes.
    let ids_true = [&[0.0, 1.0, 2.0][..], &[2.0, 2.0, 1.0][..]];
    let ids_pred = [&[0.0, 2.0, 2.0][..], &[1.0, 2.0, 1.0][..]];
    survives_a_restore(|| MeanIoU::<3>::new().unwrap(), ids_true, ids_pred, 1);
    let ones = [&[1.0, 0.0, 1.0][..], &[0.0, 1.0, 1.0][..]];
    let scores = [&[0.9, 0.4, 0.2][..], &[0.7, 0.6, 0.8][..]];
    survives_a_restore(BinaryIoU::default, ones, scores, 1);
    survives_a_restore(
        Sum::<keras_core::target::Dense<1>>::default,
        ones,
        scores,
        1,
    );
}

#[test]
fn a_state_of_another_configuration_is_refused() {
    let mut auc = Auc::new();
    auc.update_state(&Y_TRUE[0], &Y_PRED[0], 2, None).unwrap();
    let state = auc.state_values().unwrap();
    let mut coarse = Auc::new().with_num_thresholds(10).unwrap();
    assert!(coarse.load_state_values(&state).is_err());
    let mut miou = MeanIoU::<3>::new().unwrap();
    miou.update_state(&[0.0, 1.0], &[0.0, 1.0], 1, None)
        .unwrap();
    let mut other = MeanIoU::<4>::new().unwrap();
    assert!(other
        .load_state_values(&miou.state_values().unwrap())
        .is_err());
}
