//! A batch assembled on the host.

/// One batch in host memory: features, labels and optional per-sample weights, row-major.
///
/// Buffers are reused from batch to batch: only their lengths change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// `size * S::NUMEL` feature values.
    pub x: Vec<f32>,
    /// `size * T::WIDTH` label values.
    pub y: Vec<f32>,
    /// `size` weights, when the data (or `class_weight`) gives them.
    pub sample_weight: Option<Vec<f32>>,
    /// Number of samples.
    pub size: usize,
}

impl Batch {
    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        if let Some(w) = &mut self.sample_weight {
            w.clear();
        }
        self.size = 0;
    }

    /// The sample weights as a slice, if any.
    pub fn weights(&self) -> Option<&[f32]> {
        self.sample_weight.as_deref()
    }
}
