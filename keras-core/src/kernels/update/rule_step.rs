//! [`RuleStep`]: one variable's step of an optimizer's update rule, as a device runs it.

use super::DeviceUpdate;

/// The most slots (per-parameter state buffers) an update rule may declare.
pub const MAX_SLOTS: usize = 4;

/// One variable's slot buffers, in the order of the rule's slot names; unused entries are
/// empty slices.
///
/// # Examples
/// ```
/// use keras_core::optimizers::Slots;
/// let (mut m, mut v) = (vec![0.0f32; 3], vec![1.0f32; 3]);
/// let slots: Slots<'_> = [&mut m, &mut v, &mut [], &mut []];
/// let [m, v, ..] = slots;
/// assert_eq!((m.len(), v[0]), (3, 1.0));
/// ```
pub type Slots<'a> = [&'a mut [f32]; MAX_SLOTS];

/// What a device runs of one variable's step of an update rule: on the host the rule's own
/// update (`host`, over the whole variable or piece by piece when `elementwise`), on a device
/// with kernels the kernel `device` describes. The optimizer builds it from its rule, so that
/// devices need not know the rules.
#[derive(Debug, Clone, Copy)]
pub struct RuleStep<F> {
    /// The rule's update of `value` (and the slots' matching pieces) from `grad`; `None`
    /// exactly when the stages only accumulate the gradient this step.
    pub host: Option<F>,
    /// Whether `host` updates each element from that element alone (so pieces may run apart).
    pub elementwise: bool,
    /// The device kernel's step; `None` when the rule has no device kernel.
    pub device: Option<DeviceUpdate>,
    /// Adafactor's factored axes of the variable, `(batches, rows, cols)`, when it factors it.
    pub factors: Option<(usize, usize, usize)>,
}
