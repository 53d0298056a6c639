//! [`VarBuffers`]: what an optimizer keeps of one variable on its device, as the update kernels
//! take it.

/// One variable's optimizer state on its device: the rule's slots (in `slot_names` order), and
/// its gradient accumulator and moving average when those options are on.
#[derive(Debug)]
pub struct VarBuffers<B> {
    /// The rule's slots; `None` for a slot this variable does not use (one of no values, as
    /// Adafactor's row and column factors for a variable of rank < 2: devices allocate no empty
    /// buffer).
    pub slots: Vec<Option<B>>,
    /// The gradient accumulator (`gradient_accumulation_steps`).
    pub accumulator: Option<B>,
    /// The moving average (`use_ema`).
    pub ema: Option<B>,
}
