//! `class_weight`: per-class weights turned into per-sample weights from the labels, shared by
//! the array and generator adapters.

use crate::{target::Target, Error, Result};

/// Checks `class_weight` for labels `T`: one class id per sample (sparse labels) or a single
/// binary label column, every weight finite and non-negative.
pub(crate) fn check<T: Target>(class_weight: &[f32]) -> Result<()> {
    if !T::SPARSE && T::WIDTH != 1 {
        return Err(Error::invalid(
            "class_weight",
            "needs one class id per sample (sparse labels) or a single binary label column",
        ));
    }
    if let Some((class, w)) = class_weight
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(Error::invalid(
            "class_weight",
            format!("the weight of class {class} is {w}; weights must be finite and >= 0"),
        ));
    }
    Ok(())
}

/// The weight of a sample labelled `label` (`sample` names it in the error when the label has
/// no weight).
pub(crate) fn weight_of(
    class_weight: &[f32],
    label: f32,
    sample: impl std::fmt::Display,
) -> Result<f32> {
    match class_weight.get(label as usize) {
        Some(&w) if label >= 0.0 => Ok(w),
        _ => Err(Error::invalid(
            "class_weight",
            format!("has no weight for class {label} ({sample}); give one weight per class"),
        )),
    }
}
