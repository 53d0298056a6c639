//! The gradient `compute_loss` leaves in `LossScratch::grad` (with `want_grad`) against central
//! finite differences of the reduced loss, for every differentiable loss, every scalar reduction,
//! with and without sample weights.
//!
//! Inputs are drawn from a fixed-seed generator and kept away from clip points and kinks (the
//! draw is rejected when an input lies within `MARGIN` of one), so the loss is smooth within the
//! finite-difference stencil. The difference uses the five-point stencil in `f32`.

use keras_core::losses::{
    compute_loss, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, CategoricalHinge,
    CosineSimilarity, Dice, Hinge, Huber, KLDivergence, LogCosh, LossAxis, LossFn, LossScratch,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
    Poisson, Reduction, SampleWeight, SparseCategoricalCrossentropy, SquaredHinge, Tversky,
};

/// Finite-difference step.
const STEP: f32 = 1e-2;
/// Inputs stay at least this far from a kink or clip point (several steps).
const MARGIN: f32 = 0.05;
/// `|analytic - numeric| <= ATOL + RTOL * |numeric|`.
const ATOL: f64 = 2e-3;
const RTOL: f64 = 1e-2;

const REDUCTIONS: [Reduction; 4] = [
    Reduction::SumOverBatchSize,
    Reduction::Sum,
    Reduction::Mean,
    Reduction::MeanWithSampleWeight,
];

/// A small deterministic generator (64-bit LCG), so the inputs are not hand-picked.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (self.0 >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }

    fn class(&mut self, k: usize) -> usize {
        (self.uniform(0.0, k as f32) as usize).min(k - 1)
    }

    fn one_hot(&mut self, rows: usize, k: usize) -> Vec<f32> {
        let mut v = vec![0.0; rows * k];
        for r in 0..rows {
            v[r * k + self.class(k)] = 1.0;
        }
        v
    }
}

/// One batch: labels, predictions and the prediction's shape.
struct Batch {
    y_true: Vec<f32>,
    y_pred: Vec<f32>,
    shape: Vec<usize>,
}

impl Batch {
    /// Draws a dense batch of `shape`; `draw` returns `(t, p)` per element.
    fn dense(shape: &[usize], rng: &mut Rng, mut draw: impl FnMut(&mut Rng) -> (f32, f32)) -> Self {
        let n = shape.iter().product();
        let (y_true, y_pred) = (0..n).map(|_| draw(rng)).unzip();
        Self {
            y_true,
            y_pred,
            shape: shape.to_vec(),
        }
    }
}

/// The reduced loss at `y_pred`.
fn value<L: LossFn>(loss: &L, b: &Batch, y_pred: &[f32], w: Option<SampleWeight<'_>>) -> f64 {
    let mut s = LossScratch::default();
    let out =
        compute_loss(loss, &b.y_true, y_pred, &b.shape, w, false, &mut s).expect("loss evaluates");
    f64::from(out.value)
}

/// Compares the analytic gradient with the five-point central difference at every input.
fn check<L: LossFn>(loss: &L, b: &Batch, w: Option<SampleWeight<'_>>) -> Result<(), String> {
    let mut s = LossScratch::default();
    compute_loss(loss, &b.y_true, &b.y_pred, &b.shape, w, true, &mut s)
        .map_err(|e| e.to_string())?;
    let analytic = s.grad().to_vec();
    if analytic.len() != b.y_pred.len() {
        return Err(format!(
            "gradient has {} values for {} inputs",
            analytic.len(),
            b.y_pred.len()
        ));
    }
    let mut x = b.y_pred.clone();
    for (i, &a) in analytic.iter().enumerate() {
        let x0 = x[i];
        let mut at = |d: f32| {
            x[i] = x0 + d;
            value(loss, b, &x, w)
        };
        let h = f64::from(STEP);
        let numeric =
            (-at(2.0 * STEP) + 8.0 * at(STEP) - 8.0 * at(-STEP) + at(-2.0 * STEP)) / (12.0 * h);
        x[i] = x0;
        let a = f64::from(a);
        let close = (a - numeric).abs() <= ATOL + RTOL * numeric.abs();
        if !close {
            return Err(format!(
                "d/dy_pred[{i}]: analytic {a}, finite difference {numeric}"
            ));
        }
    }
    Ok(())
}

/// Collects gradient checks: every scalar reduction, without weights and with each weight
/// array given.
struct Suite {
    weights: Vec<(Vec<f32>, Vec<usize>)>,
    checked: usize,
    failures: Vec<String>,
}

impl Suite {
    /// A suite whose default weights are one per row of a `[rows, K]` prediction.
    fn new(rows: usize) -> Self {
        Self {
            weights: row_weights(rows),
            checked: 0,
            failures: Vec::new(),
        }
    }

    /// Checks `make(reduction)` on `b` without weights and with the suite's default weights.
    fn run<L: LossFn>(&mut self, name: &str, make: impl Fn(Reduction) -> L, b: &Batch) {
        let weights = std::mem::take(&mut self.weights);
        self.run_with(name, make, b, &weights);
        self.weights = weights;
    }

    /// Checks `make(reduction)` on `b` without weights and with each of `weights`.
    fn run_with<L: LossFn>(
        &mut self,
        name: &str,
        make: impl Fn(Reduction) -> L,
        b: &Batch,
        weights: &[(Vec<f32>, Vec<usize>)],
    ) {
        for r in REDUCTIONS {
            let loss = make(r);
            let options = std::iter::once(None).chain(
                weights
                    .iter()
                    .map(|(values, shape)| Some(SampleWeight { values, shape })),
            );
            for w in options {
                self.checked += 1;
                if let Err(e) = check(&loss, b, w) {
                    let shape = w.map(|w| w.shape.to_vec());
                    self.failures
                        .push(format!("{name} / {r:?} / weights {shape:?}: {e}"));
                }
            }
        }
    }

    /// Asserts that nothing failed and that `expected` checks ran.
    fn finish(self, expected: usize) {
        assert!(
            self.failures.is_empty(),
            "{} of {} checks failed:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        assert_eq!(self.checked, expected, "every check must run");
    }
}

/// Weights for a `[B, K]` prediction: one per row, a zero among them.
fn row_weights(rows: usize) -> Vec<(Vec<f32>, Vec<usize>)> {
    let values: Vec<f32> = (0..rows).map(|r| [0.5, 0.0, 2.0, 1.5][r % 4]).collect();
    vec![(values, vec![rows])]
}

/// Weights for a `[B, T, K]` prediction: `[B, 1]` and `[B, T]`.
fn sequence_weights(b: usize, t: usize) -> Vec<(Vec<f32>, Vec<usize>)> {
    let col: Vec<f32> = (0..b).map(|r| [1.5, 0.0, 0.5][r % 3]).collect();
    let full: Vec<f32> = (0..b * t).map(|i| [0.25, 1.0, 0.0, 2.0][i % 4]).collect();
    vec![(col, vec![b, 1]), (full, vec![b, t])]
}

/// Draws a value in `[lo, hi]` at least `MARGIN` away from each of `kinks`.
fn away(rng: &mut Rng, lo: f32, hi: f32, kinks: &[f32]) -> f32 {
    loop {
        let x = rng.uniform(lo, hi);
        if kinks.iter().all(|k| (x - k).abs() > MARGIN) {
            return x;
        }
    }
}

const ROWS: usize = 5;
const K: usize = 3;

#[test]
fn regression_loss_gradients_match_finite_differences() {
    let mut rng = Rng(1);
    let mut suite = Suite::new(ROWS);
    let shape = [ROWS, K];

    let b = Batch::dense(&shape, &mut rng, |r| {
        (r.uniform(-2.0, 2.0), r.uniform(-2.0, 2.0))
    });
    suite.run("mse", |r| MeanSquaredError::default().with_reduction(r), &b);
    suite.run("log_cosh", |r| LogCosh::default().with_reduction(r), &b);

    let b = Batch::dense(&shape, &mut rng, |r| {
        let t = r.uniform(-2.0, 2.0);
        (t, t + away(r, -2.0, 2.0, &[0.0]))
    });
    suite.run(
        "mae",
        |r| MeanAbsoluteError::default().with_reduction(r),
        &b,
    );

    for delta in [0.5f32, 1.0, 2.0] {
        let b = Batch::dense(&shape, &mut rng, |r| {
            let t = r.uniform(-2.0, 2.0);
            (t, t + away(r, -3.0, 3.0, &[-delta, delta]))
        });
        let make = |r| Huber::new(delta).expect("valid delta").with_reduction(r);
        suite.run(&format!("huber(delta={delta})"), make, &b);
    }

    let b = Batch::dense(&shape, &mut rng, |r| {
        let t = r.uniform(0.5, 2.0) * if r.uniform(0.0, 1.0) < 0.5 { -1.0 } else { 1.0 };
        (t, t + away(r, -2.0, 2.0, &[0.0]))
    });
    suite.run(
        "mape",
        |r| MeanAbsolutePercentageError::default().with_reduction(r),
        &b,
    );

    let b = Batch::dense(&shape, &mut rng, |r| {
        (r.uniform(0.0, 3.0), r.uniform(0.1, 3.0))
    });
    suite.run(
        "msle",
        |r| MeanSquaredLogarithmicError::default().with_reduction(r),
        &b,
    );
    suite.run("poisson", |r| Poisson::default().with_reduction(r), &b);

    let b = Batch::dense(&shape, &mut rng, |r| {
        (r.uniform(-1.0, 1.0), r.uniform(-1.0, 1.0))
    });
    suite.run(
        "cosine",
        |r| CosineSimilarity::default().with_reduction(r),
        &b,
    );

    // A sequence layout [B, T, K] with [B, 1] and [B, T] weights.
    let b = Batch::dense(&[4, 2, K], &mut rng, |r| {
        (r.uniform(-2.0, 2.0), r.uniform(-2.0, 2.0))
    });
    suite.run_with(
        "mse/3d",
        |r| MeanSquaredError::default().with_reduction(r),
        &b,
        &sequence_weights(4, 2),
    );

    suite.finish(4 * 2 * 10 + 4 * 3);
}

#[test]
fn binary_loss_gradients_match_finite_differences() {
    let mut rng = Rng(2);
    let mut suite = Suite::new(ROWS);
    let shape = [ROWS, K];
    let hard = |r: &mut Rng| if r.uniform(0.0, 1.0) < 0.5 { 0.0 } else { 1.0 };

    for (from_logits, smoothing) in [(false, 0.0f32), (false, 0.2), (true, 0.0), (true, 0.1)] {
        let b = Batch::dense(&shape, &mut rng, |r| {
            let p = if from_logits {
                r.uniform(-3.0, 3.0)
            } else {
                r.uniform(0.1, 0.9)
            };
            (hard(r), p)
        });
        let make = |r| {
            BinaryCrossentropy::default()
                .with_from_logits(from_logits)
                .with_label_smoothing(smoothing)
                .expect("valid smoothing")
                .with_reduction(r)
        };
        let name = format!("bce(logits={from_logits}, smoothing={smoothing})");
        suite.run(&name, make, &b);

        for (gamma, balance) in [(2.0f32, false), (1.5, true), (0.0, true)] {
            let make = |r| {
                BinaryFocalCrossentropy::default()
                    .with_from_logits(from_logits)
                    .with_label_smoothing(smoothing)
                    .and_then(|l| l.with_gamma(gamma))
                    .and_then(|l| l.with_alpha(0.3))
                    .expect("valid parameters")
                    .with_apply_class_balancing(balance)
                    .with_reduction(r)
            };
            let name =
                format!("binary_focal(logits={from_logits}, smoothing={smoothing}, gamma={gamma})");
            suite.run(&name, make, &b);
        }
    }

    // Hinge losses with {-1, 1} labels and with {0, 1} labels (mapped to {-1, 1}).
    for labels in [[-1.0f32, 1.0], [0.0, 1.0]] {
        let b = Batch::dense(&shape, &mut rng, |r| {
            let t = labels[r.class(2)];
            let tt = if labels[0] == 0.0 { 2.0 * t - 1.0 } else { t };
            // Keep 1 - tt * p away from 0: p away from 1 / tt.
            (t, away(r, -2.0, 2.0, &[tt]))
        });
        let name = format!("hinge(labels={labels:?})");
        suite.run(&name, |r| Hinge::default().with_reduction(r), &b);
        let name = format!("squared_hinge(labels={labels:?})");
        suite.run(&name, |r| SquaredHinge::default().with_reduction(r), &b);
    }

    suite.finish(4 * 2 * (4 * 4 + 2 * 2));
}

#[test]
fn categorical_loss_gradients_match_finite_differences() {
    let mut rng = Rng(3);
    let mut suite = Suite::new(ROWS);
    let shape = [ROWS, K];

    for from_logits in [false, true] {
        let draw = |r: &mut Rng| {
            if from_logits {
                r.uniform(-2.0, 2.0)
            } else {
                r.uniform(0.1, 1.0)
            }
        };
        let y_pred: Vec<f32> = (0..ROWS * K).map(|_| draw(&mut rng)).collect();
        let one_hot = Batch {
            y_true: rng.one_hot(ROWS, K),
            y_pred: y_pred.clone(),
            shape: shape.to_vec(),
        };
        let soft = Batch {
            y_true: (0..ROWS * K).map(|_| rng.uniform(0.0, 1.0)).collect(),
            y_pred: y_pred.clone(),
            shape: shape.to_vec(),
        };
        for (labels, b) in [("one-hot", &one_hot), ("soft", &soft)] {
            for smoothing in [0.0f32, 0.2] {
                let make = |r| {
                    CategoricalCrossentropy::default()
                        .with_from_logits(from_logits)
                        .with_label_smoothing(smoothing)
                        .expect("valid smoothing")
                        .with_reduction(r)
                };
                let name = format!("cce(logits={from_logits}, {labels}, smoothing={smoothing})");
                suite.run(&name, make, b);
            }
        }
        for gamma in [2.0f32, 1.0, 0.0] {
            let make = |r| {
                CategoricalFocalCrossentropy::default()
                    .with_from_logits(from_logits)
                    .with_gamma(gamma)
                    .and_then(|l| l.with_label_smoothing(0.1))
                    .expect("valid parameters")
                    .with_reduction(r)
            };
            let name = format!("categorical_focal(logits={from_logits}, gamma={gamma})");
            suite.run(&name, make, &one_hot);
        }

        let sparse = Batch {
            y_true: (0..ROWS).map(|_| rng.class(K) as f32).collect(),
            y_pred: y_pred.clone(),
            shape: shape.to_vec(),
        };
        let make = |r| {
            SparseCategoricalCrossentropy::default()
                .with_from_logits(from_logits)
                .with_reduction(r)
        };
        suite.run(&format!("scce(logits={from_logits})"), make, &sparse);

        // A [B, T, K] batch with ignored labels, [B, 1] and [B, T] weights.
        let (bs, t) = (4, 2);
        let y_pred: Vec<f32> = (0..bs * t * K).map(|_| draw(&mut rng)).collect();
        let labels: Vec<f32> = (0..bs * t)
            .map(|i| {
                if i % 3 == 1 {
                    -1.0
                } else {
                    rng.class(K) as f32
                }
            })
            .collect();
        let seq = Batch {
            y_true: labels,
            y_pred,
            shape: vec![bs, t, K],
        };
        let make = |r| {
            SparseCategoricalCrossentropy::default()
                .with_from_logits(from_logits)
                .with_ignore_class(Some(-1))
                .with_reduction(r)
        };
        let name = format!("scce(logits={from_logits}, ignore_class=-1)/3d");
        suite.run_with(&name, make, &seq, &sequence_weights(bs, t));
    }

    // Probabilities for CGCE, kept away from 0.
    let gce_batch = Batch {
        y_true: (0..ROWS).map(|_| rng.class(K) as f32).collect(),
        y_pred: (0..ROWS * K).map(|_| rng.uniform(0.2, 0.9)).collect(),
        shape: shape.to_vec(),
    };
    for q in [0.5f32, 0.7] {
        let make = |r| {
            CategoricalGeneralizedCrossEntropy::new(q)
                .expect("valid q")
                .with_reduction(r)
        };
        suite.run(&format!("gce(q={q})"), make, &gce_batch);
    }

    let kld = Batch::dense(&shape, &mut rng, |r| {
        (r.uniform(0.0, 1.0), r.uniform(0.1, 0.9))
    });
    suite.run("kld", |r| KLDivergence::default().with_reduction(r), &kld);

    // Categorical hinge: rows with a clear margin (either side of 0) and a unique wrong maximum.
    let mut hinge_batch = Batch {
        y_true: Vec::new(),
        y_pred: Vec::new(),
        shape: shape.to_vec(),
    };
    while hinge_batch.y_true.len() < ROWS * K {
        let t = rng.one_hot(1, K);
        let p: Vec<f32> = (0..K).map(|_| rng.uniform(-1.0, 1.5)).collect();
        let mut negs: Vec<f32> = t.iter().zip(&p).map(|(a, b)| (1.0 - a) * b).collect();
        let pos: f32 = t.iter().zip(&p).map(|(a, b)| a * b).sum();
        negs.sort_by(|a, b| b.total_cmp(a));
        if (negs[0] - pos + 1.0).abs() > MARGIN && negs[0] - negs[1] > MARGIN {
            hinge_batch.y_true.extend(t);
            hinge_batch.y_pred.extend(p);
        }
    }
    suite.run(
        "categorical_hinge",
        |r| CategoricalHinge::default().with_reduction(r),
        &hinge_batch,
    );

    suite.finish(2 * (4 * 8 + 3 * 8 + 8 + 4 * 3) + 2 * 8 + 8 + 8);
}

#[test]
fn overlap_loss_gradients_match_finite_differences() {
    let mut rng = Rng(4);
    let mut suite = Suite::new(ROWS);
    let b = Batch::dense(&[ROWS, K], &mut rng, |r| {
        (r.uniform(0.0, 1.0), r.uniform(0.1, 0.9))
    });
    for axis in [LossAxis::All, LossAxis::Last] {
        let make = |r| Dice::default().with_axis(axis).with_reduction(r);
        suite.run(&format!("dice({axis:?})"), make, &b);
        for (alpha, beta) in [(0.5f32, 0.5f32), (0.2, 0.8), (0.7, 0.1)] {
            let make = |r| {
                Tversky::new(alpha, beta)
                    .expect("valid coefficients")
                    .with_axis(axis)
                    .with_reduction(r)
            };
            suite.run(&format!("tversky({alpha}, {beta}, {axis:?})"), make, &b);
        }
    }
    suite.finish(4 * 2 * 2 * 4);
}

#[test]
fn reduction_none_gives_no_gradient() {
    let loss = MeanSquaredError::default().with_reduction(Reduction::None);
    let mut s = LossScratch::default();
    let err = compute_loss(&loss, &[0.0; 2], &[1.0; 2], &[2, 1], None, true, &mut s).unwrap_err();
    assert!(matches!(
        err,
        keras_core::Error::InvalidArgument {
            name: "reduction",
            ..
        }
    ));
}
