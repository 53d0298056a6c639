//! The builder setters many losses share, written once.

/// Expands, inside an `impl` block of a loss that has the matching fields, to the named setters:
/// - `reduction`: `with_reduction` (field `reduction: Reduction`);
/// - `from_logits`: `with_from_logits` (field `from_logits: bool`);
/// - `axis`: `with_axis` (field `axis: LossAxis`, defaulting to `LossAxis::All`);
/// - `gamma`: `with_gamma`, the focal losses' focusing parameter (field `gamma: f32`);
/// - `binary_label_smoothing` / `categorical_label_smoothing`: `with_label_smoothing` (field
///   `label_smoothing: f32`), checked to lie in `[0, 1]` and documented with the binary or the
///   categorical smoothing.
macro_rules! loss_setters {
    ($($setter:ident),+ $(,)?) => {
        $($crate::losses::setters::loss_setters!(@$setter);)+
    };
    (@reduction) => {
        /// The reduction. Defaults to `sum_over_batch_size`.
        pub fn with_reduction(mut self, reduction: $crate::losses::Reduction) -> Self {
            self.reduction = reduction;
            self
        }
    };
    (@from_logits) => {
        /// Whether `y_pred` holds logits. Defaults to `false`.
        pub fn with_from_logits(mut self, from_logits: bool) -> Self {
            self.from_logits = from_logits;
            self
        }
    };
    (@axis) => {
        /// The axes summed over. Defaults to `LossAxis::All`.
        pub fn with_axis(mut self, axis: $crate::losses::LossAxis) -> Self {
            self.axis = axis;
            self
        }
    };
    (@gamma) => {
        /// The focusing parameter, finite and `>= 0` (else
        /// [`Error::InvalidArgument`](crate::Error)). Defaults to `2.0`.
        pub fn with_gamma(mut self, gamma: f32) -> $crate::Result<Self> {
            self.gamma = $crate::losses::validate::non_negative("gamma", gamma)?;
            Ok(self)
        }
    };
    (@binary_label_smoothing) => {
        /// Label smoothing in `[0, 1]` (else [`Error::InvalidArgument`](crate::Error)): labels are
        /// squeezed towards 0.5. Defaults to `0.0`.
        pub fn with_label_smoothing(mut self, label_smoothing: f32) -> $crate::Result<Self> {
            self.label_smoothing =
                $crate::losses::validate::unit_interval("label_smoothing", label_smoothing)?;
            Ok(self)
        }
    };
    (@categorical_label_smoothing) => {
        /// Label smoothing in `[0, 1]` (else [`Error::InvalidArgument`](crate::Error)): each label
        /// becomes `t * (1 - s) + s / K`. Defaults to `0.0`.
        pub fn with_label_smoothing(mut self, label_smoothing: f32) -> $crate::Result<Self> {
            self.label_smoothing =
                $crate::losses::validate::unit_interval("label_smoothing", label_smoothing)?;
            Ok(self)
        }
    };
}

pub(crate) use loss_setters;
