//! An optimizer's state as named flat vectors: what checkpoints save and restore.
//!
//! Entries: `iterations` (the raw call count as four exact 16-bit chunks, lowest first),
//! `learning_rate` (only for a constant rate), the rule's scalars (Nadam's `u_product`), every
//! slot by its Keras name (`momentum`, `velocity`, ...) over all parameters, `ema` and
//! `gradient_accumulator` when those options are on. A schedule needs no entry: it is a
//! function of `iterations`.

use super::learning_rate::{check_learning_rate, LearningRate};
use super::{KerasOptimizer, UpdateRule};
use crate::{Error, Result};

/// Encodes a step count as four `f32` chunks of 16 bits (each exact in `f32`).
pub(crate) fn encode_iterations(n: u64) -> Vec<f32> {
    (0..4).map(|i| ((n >> (16 * i)) & 0xFFFF) as f32).collect()
}

/// Decodes [`encode_iterations`].
pub(crate) fn decode_iterations(chunks: &[f32]) -> Result<u64> {
    let valid = chunks.len() == 4
        && chunks
            .iter()
            .all(|&c| (0.0..65536.0).contains(&c) && c.fract() == 0.0);
    if !valid {
        return Err(Error::invalid(
            "state",
            format!("entry `iterations` must hold four 16-bit chunks, got {chunks:?}"),
        ));
    }
    Ok(chunks
        .iter()
        .enumerate()
        .map(|(i, &c)| (c as u64) << (16 * i))
        .sum())
}

impl<U: UpdateRule, S> KerasOptimizer<U, S> {
    /// The state, see the module docs.
    pub(crate) fn export_state(&self) -> Vec<(String, Vec<f32>)> {
        let mut out = vec![(
            "iterations".to_string(),
            encode_iterations(self.raw_iterations),
        )];
        if let LearningRate::Constant(lr) = self.learning_rate {
            out.push(("learning_rate".to_string(), vec![lr]));
        }
        for (name, value) in self.rule.scalars() {
            out.push((name.to_string(), vec![value]));
        }
        match &self.buffers {
            Some(b) => {
                for (name, buf) in b.named(self.rule.slot_names()) {
                    out.push((name.to_string(), buf.clone()));
                }
            }
            None => out.extend(self.pending.iter().cloned()),
        }
        out
    }

    fn is_buffer_name(&self, name: &str) -> bool {
        self.rule.slot_names().contains(&name)
            || (name == "ema" && self.options.use_ema)
            || (name == "gradient_accumulator"
                && self.options.gradient_accumulation_steps.is_some())
    }

    /// Restores [`export_state`](Self::export_state)'s output; checks everything before
    /// changing anything.
    pub(crate) fn import_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()> {
        let scalars = self.rule.scalars();
        let mut iterations = None;
        let mut lr = None;
        for (name, values) in state {
            let scalar = name == "learning_rate" || scalars.iter().any(|(s, _)| s == name);
            if name == "iterations" {
                iterations = Some(decode_iterations(values)?);
            } else if scalar {
                let &[v] = values.as_slice() else {
                    return Err(Error::invalid(
                        "state",
                        format!("entry `{name}` must hold one value, got {}", values.len()),
                    ));
                };
                if name == "learning_rate" {
                    check_learning_rate(v)?;
                    lr = Some(v);
                }
            } else if !self.is_buffer_name(name) {
                return Err(Error::invalid(
                    "state",
                    format!("unknown entry `{name}` for a `{}` optimizer", U::NAME),
                ));
            } else if let Some(b) = &self.buffers {
                let expected = b
                    .named(self.rule.slot_names())
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, buf)| buf.len());
                if expected != values.len() {
                    return Err(Error::invalid(
                        "state",
                        format!(
                            "entry `{name}` holds {} values but these parameters need {expected}",
                            values.len()
                        ),
                    ));
                }
            }
        }
        let Some(iterations) = iterations else {
            return Err(Error::invalid("state", "entry `iterations` is missing"));
        };

        self.raw_iterations = iterations;
        if let Some(lr) = lr {
            self.learning_rate = LearningRate::Constant(lr);
        }
        let slot_names = self.rule.slot_names();
        let mut pending = Vec::new();
        for (name, values) in state {
            if let Some((s, _)) = scalars.iter().find(|(s, _)| s == name) {
                self.rule.set_scalar(s, values[0]);
            } else if self.is_buffer_name(name) {
                match self
                    .buffers
                    .as_mut()
                    .and_then(|b| b.named_mut(slot_names, name))
                {
                    Some(buf) => buf.copy_from_slice(values),
                    None => pending.push((name.clone(), values.clone())),
                }
            }
        }
        if self.buffers.is_none() {
            self.pending = pending;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{Adam, FlatParams, Optimizer};

    #[test]
    fn iteration_counts_round_trip_exactly_past_f32_precision() {
        for n in [0, 1, 16_777_217, u64::MAX] {
            assert_eq!(decode_iterations(&encode_iterations(n)).unwrap(), n);
        }
        assert!(decode_iterations(&[0.5, 0.0, 0.0, 0.0]).is_err());
    }

    #[test]
    fn unknown_entries_and_wrong_lengths_are_rejected() {
        let mut params = FlatParams::from_layout([("w", &[3][..])]);
        let mut opt = Adam::new().build().unwrap();
        opt.apply(&mut params).unwrap();
        let mut state = opt.state();
        state.push(("bogus".into(), vec![1.0]));
        assert!(opt.load_state(&state).is_err());
        let mut state = opt.state();
        for (name, values) in &mut state {
            if name == "velocity" {
                values.push(0.0);
            }
        }
        assert!(opt.load_state(&state).is_err());
        assert_eq!(opt.iterations(), 1, "a failed load changes nothing");
    }

    #[test]
    fn state_loaded_before_the_first_step_waits_for_the_layout() {
        let mut params = FlatParams::from_layout([("w", &[2][..])]);
        params.grads.copy_from_slice(&[0.5, -1.0]);
        let mut a = Adam::new().build().unwrap();
        a.apply(&mut params).unwrap();
        let mut b = Adam::new().build().unwrap();
        b.load_state(&a.state()).unwrap();
        assert_eq!(b.state(), a.state());
        let mut params_b = params.clone();
        a.apply(&mut params).unwrap();
        b.apply(&mut params_b).unwrap();
        assert_eq!(params.values, params_b.values);
    }
}
