//! A model's layer hyper-parameters (Dropout's rate, BatchNormalization's momentum and
//! epsilon, ...), named by field path, as a saved file records them.

use std::collections::BTreeMap;

/// The hyper-parameters of a model's layers, each named by its field path (`dropout.rate`,
/// `0.epsilon`), in the model's field order.
///
/// They are not loaded into a model (its code fixes them: the layer's defaults or a derived
/// model's `#[layer(rate = 0.2)]`); a file records them so that loading it into a model with
/// other hyper-parameters is refused ([`check_matches`](Self::check_matches)).
///
/// # Examples
/// ```
/// use keras_core::state::HyperParameters;
///
/// let saved = HyperParameters::from_pairs([("dropout.rate", 0.2)]);
/// let json = saved.to_json();
/// assert_eq!(HyperParameters::from_json(&json)?, saved);
///
/// let model = HyperParameters::from_pairs([("dropout.rate", 0.5)]);
/// let err = model.check_matches(&saved).unwrap_err();
/// assert!(err.contains("`dropout.rate`") && err.contains("0.5") && err.contains("0.2"), "{err}");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HyperParameters {
    /// `(field path, value)` pairs, in the model's field order.
    pub values: Vec<(String, f64)>,
}

impl HyperParameters {
    /// The hyper-parameters `pairs`, in their order.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, f64)>) -> Self {
        Self {
            values: pairs
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
        }
    }

    /// The value named `name`, if the model has it.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, value)| value)
    }

    /// A JSON object from field path to the value written as Rust's shortest round-trip text
    /// (`{"dropout.rate":"0.2"}`), so that every value reads back bit for bit.
    pub fn to_json(&self) -> String {
        let map: BTreeMap<&str, String> = self
            .values
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_string()))
            .collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string())
    }

    /// Reads what [`to_json`](Self::to_json) wrote (names in sorted order); `Err` with the
    /// reason for anything else.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let map: BTreeMap<String, String> = serde_json::from_str(json)
            .map_err(|e| format!("the hyper-parameters are not a JSON object of strings: {e}"))?;
        let values = map
            .into_iter()
            .map(|(name, text)| match text.parse::<f64>() {
                Ok(value) => Ok((name, value)),
                Err(_) => Err(format!(
                    "hyper-parameter `{name}` is `{text}`, not a number"
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { values })
    }

    /// `Ok` when `saved` (what a file recorded) names the same hyper-parameters with the same
    /// values as `self` (the model's); otherwise `Err` naming the first field path that
    /// differs and both values.
    pub fn check_matches(&self, saved: &HyperParameters) -> Result<(), String> {
        for (name, ours) in &self.values {
            match saved.get(name) {
                None => {
                    return Err(format!(
                        "hyper-parameter `{name}` = {ours} of the model is not in the file; it \
                         was saved from a different model"
                    ))
                }
                Some(theirs) if !same(*ours, theirs) => {
                    return Err(format!(
                        "hyper-parameter `{name}` is {ours} in the model but {theirs} in the \
                         file; it was saved from a model with other hyper-parameters"
                    ))
                }
                Some(_) => {}
            }
        }
        match saved
            .values
            .iter()
            .find(|(name, _)| self.get(name).is_none())
        {
            Some((name, theirs)) => Err(format!(
                "hyper-parameter `{name}` = {theirs} of the file is not in the model; it was \
                 saved from a different model"
            )),
            None => Ok(()),
        }
    }
}

/// Equal values, NaN equal to NaN.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[cfg(test)]
mod tests {
    use super::HyperParameters;

    #[test]
    fn values_round_trip_bit_for_bit_through_json() {
        let hp = HyperParameters::from_pairs([
            ("a.rate", 0.1),
            ("b.epsilon", 1e-3),
            ("c.momentum", 0.99),
            ("d.slope", f64::from(0.3f32)),
            ("e.x", 1.0 / 3.0),
        ]);
        let back = HyperParameters::from_json(&hp.to_json()).unwrap();
        for (name, value) in &hp.values {
            assert_eq!(back.get(name).map(f64::to_bits), Some(value.to_bits()));
        }
    }

    #[test]
    fn a_missing_or_extra_hyper_parameter_is_named() {
        let model = HyperParameters::from_pairs([("bn.epsilon", 1e-3), ("drop.rate", 0.5)]);
        let fewer = HyperParameters::from_pairs([("bn.epsilon", 1e-3)]);
        let err = model.check_matches(&fewer).unwrap_err();
        assert!(
            err.contains("`drop.rate`") && err.contains("not in the file"),
            "{err}"
        );
        let err = fewer.check_matches(&model).unwrap_err();
        assert!(
            err.contains("`drop.rate`") && err.contains("not in the model"),
            "{err}"
        );
        assert_eq!(model.check_matches(&model.clone()), Ok(()));
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        let err = HyperParameters::from_json(r#"{"a.rate":"half"}"#).unwrap_err();
        assert!(err.contains("`a.rate`") && err.contains("half"), "{err}");
        assert!(HyperParameters::from_json("[1]").is_err());
    }
}
