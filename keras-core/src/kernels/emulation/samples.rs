//! What the emulated kernels' tests share: deterministic inputs and a closeness check.

/// A deterministic stream of values (a 64-bit LCG), so that every run tests the same inputs.
pub(crate) struct Samples(u64);

impl Samples {
    /// A stream seeded by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Samples(
            seed.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        )
    }

    /// The next value in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    /// `n` values in `[lo, hi)`.
    pub(crate) fn between(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.unit()).collect()
    }

    /// `n` integers in `0..k`, as floats.
    pub(crate) fn ids(&mut self, n: usize, k: usize) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.unit() * k as f32) as usize).min(k - 1) as f32)
            .collect()
    }
}

/// Asserts that `got` is within `rel` of `want`, relative to `max(|want|, 1)`, element by
/// element (NaN only where NaN is expected).
#[track_caller]
pub(crate) fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= rel * w.abs().max(1.0)
        };
        assert!(
            ok,
            "{what}: element {i} is {g}, expected {w} (within {rel})"
        );
    }
}

/// A batch on the host, as the metric kernels take it: `rows × cols` predictions, labels, and
/// one weight per row when there are some.
#[derive(Debug, Clone)]
pub(crate) struct HostBatch {
    /// Rows in the batch.
    pub rows: usize,
    /// Predictions per row.
    pub cols: usize,
    /// The predictions, row-major.
    pub y_pred: Vec<f32>,
    /// The labels.
    pub y_true: Vec<f32>,
    /// One weight per row, if any.
    pub weights: Option<Vec<f32>>,
}

impl HostBatch {
    /// The batch as the kernels' plans take it (a unit weight of 1).
    pub(crate) fn mean_batch(&self) -> crate::kernels::MeanBatch<'_, [f32]> {
        crate::kernels::MeanBatch {
            y_pred: &self.y_pred[..],
            y_true: &self.y_true[..],
            weights: self.weights.as_deref(),
            unit_weight: 1.0,
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// The batch over its `Vec`s, for a plan whose other buffers are `Vec`s too.
    pub(crate) fn vec_batch(&self) -> crate::kernels::MeanBatch<'_, Vec<f32>> {
        crate::kernels::MeanBatch {
            y_pred: &self.y_pred,
            y_true: &self.y_true,
            weights: self.weights.as_ref(),
            unit_weight: 1.0,
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// Copies of the batch, each with one buffer a value short (the predictions, the labels,
    /// the weights when there are some), named: what a plan must refuse.
    pub(crate) fn each_one_short(&self) -> Vec<(&'static str, HostBatch)> {
        let mut out = Vec::new();
        let mut short = self.clone();
        short.y_pred.pop();
        out.push(("predictions", short));
        let mut short = self.clone();
        short.y_true.pop();
        out.push(("labels", short));
        if self.weights.is_some() {
            let mut short = self.clone();
            short.weights.as_mut().map(Vec::pop);
            out.push(("weights", short));
        }
        out
    }
}

/// A value no kernel writes: the state around the part a kernel owns.
pub(crate) const SENTINEL: f32 = -12345.5;

/// A state holding `start` after `before` and before `after` [`SENTINEL`]s.
pub(crate) fn between_sentinels(before: usize, start: &[f32], after: usize) -> Vec<f32> {
    let mut state = vec![SENTINEL; before];
    state.extend_from_slice(start);
    state.extend_from_slice(&vec![SENTINEL; after]);
    state
}
