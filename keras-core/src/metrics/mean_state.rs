//! The `total / count` state shared by Keras's mean metrics (`reduction_metrics.Mean`).

/// Running weighted mean: `total += sum(v * w)`, `count += sum(w)`, `result = total / count`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanState {
    /// Sum of weighted values.
    pub total: f32,
    /// Sum of weights.
    pub count: f32,
}

impl MeanState {
    /// Adds per-row `values`, weighted by `sample_weight` (1 each when `None`).
    pub fn update(&mut self, values: impl Iterator<Item = f32>, sample_weight: Option<&[f32]>) {
        let mut total = 0.0f32;
        let mut count = 0.0f32;
        match sample_weight {
            Some(w) => {
                for (v, w) in values.zip(w) {
                    total += v * w;
                    count += w;
                }
            }
            None => {
                for v in values {
                    total += v;
                    count += 1.0;
                }
            }
        }
        self.total += total;
        self.count += count;
    }

    /// `total / count`, 0 when nothing was seen (divide-no-nan).
    pub fn result(&self) -> f32 {
        crate::losses::div_no_nan(self.total, self.count)
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Merges another state into this one.
    pub fn merge(&mut self, other: &Self) {
        self.total += other.total;
        self.count += other.count;
    }
}
