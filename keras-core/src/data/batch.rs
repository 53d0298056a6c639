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
    /// In a data-parallel `fit`, the global batch this batch is one process's shard of
    /// ([`Sharded`](super::Sharded)); `None` when the batch is the whole of it.
    pub shard: Option<BatchShard>,
}

/// The global batch a shard belongs to: what the loss's reduction divides by, so that the
/// shards' losses add up to the global batch's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchShard {
    /// Samples in the global batch (over every process).
    pub global_size: usize,
    /// The sum of the global batch's sample weights (summed in sample order, as one process
    /// would), when it has weights.
    pub global_weight_sum: Option<f32>,
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
        self.shard = None;
    }

    /// The sample weights as a slice, if any.
    pub fn weights(&self) -> Option<&[f32]> {
        self.sample_weight.as_deref()
    }
}
