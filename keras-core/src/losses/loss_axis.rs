//! Which axes of `y_pred` one loss value reduces.

/// The axes a loss reduces to get one loss value (Keras's `axis` argument).
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, Dice, LossAxis, LossScratch};
/// // One Dice value per row instead of one for the whole batch.
/// let dice = Dice::default().with_axis(LossAxis::Last);
/// let mut scratch = LossScratch::default();
/// let y_true = [1.0, 0.0, 0.0, 1.0];
/// let y_pred = [1.0, 0.0, 0.0, 0.0];
/// compute_loss(&dice, &y_true, &y_pred, &[2, 2], None, false, &mut scratch).unwrap();
/// assert_eq!(scratch.values().len(), 2);
/// assert!(scratch.values()[0].abs() < 1e-6 && (scratch.values()[1] - 1.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossAxis {
    /// The last axis (Keras's `axis=-1`): one value per row of `y_pred`, so a `[B, K]`
    /// prediction gives `B` values and a `[B, T, K]` one gives `B * T`.
    #[default]
    Last,
    /// Every axis (Keras's `axis=None`): one value for the whole batch. The default of
    /// [`Dice`](super::Dice) and [`Tversky`](super::Tversky).
    All,
}
