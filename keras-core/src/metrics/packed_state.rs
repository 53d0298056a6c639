//! A metric state made of several flat arrays, as the one `Vec<f32>` that
//! [`MetricFn::state_values`](super::MetricFn::state_values) returns: the number of parts, each
//! part's length, then the parts one after the other. Lengths and counts below 2^24 are exact
//! in `f32`.

use crate::{Error, Result};

/// `parts` as one flat state.
pub(crate) fn pack(parts: &[&[f32]]) -> Vec<f32> {
    let mut out =
        Vec::with_capacity(1 + parts.len() + parts.iter().map(|p| p.len()).sum::<usize>());
    out.push(parts.len() as f32);
    out.extend(parts.iter().map(|p| p.len() as f32));
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// The `parts` arrays of a state made by [`pack`]; an [`Error::InvalidArgument`] naming `metric`
/// when `values` is not such a state.
pub(crate) fn unpack<'a>(values: &'a [f32], parts: usize, metric: &str) -> Result<Vec<&'a [f32]>> {
    let bad = |why: &str| {
        Error::invalid(
            "state",
            format!("not a saved state of metric `{metric}`: {why}"),
        )
    };
    let count = |v: f32| (v >= 0.0 && v.fract() == 0.0 && v < 16_777_216.0).then_some(v as usize);
    if values.first().copied().and_then(count) != Some(parts) {
        return Err(bad(&format!("expected {parts} parts")));
    }
    let lengths = values
        .get(1..1 + parts)
        .ok_or_else(|| bad("the header is cut short"))?;
    let mut rest = &values[1 + parts..];
    let mut out = Vec::with_capacity(parts);
    for &len in lengths {
        let len = count(len).ok_or_else(|| bad("a part length is not a count"))?;
        if len > rest.len() {
            return Err(bad("a part runs past the end"));
        }
        let (part, tail) = rest.split_at(len);
        out.push(part);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(bad("values after the last part"));
    }
    Ok(out)
}

/// Copies `from` into `into` when the lengths agree; an [`Error::InvalidArgument`] naming
/// `metric` and `part` otherwise.
pub(crate) fn restore(into: &mut [f32], from: &[f32], metric: &str, part: &str) -> Result<()> {
    if into.len() != from.len() {
        return Err(Error::invalid(
            "state",
            format!(
                "metric `{metric}`: saved `{part}` holds {} values, this metric {}",
                from.len(),
                into.len()
            ),
        ));
    }
    into.copy_from_slice(from);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_malformed_states_are_errors() {
        let packed = pack(&[&[1.0, 2.0], &[], &[3.5]]);
        let parts = unpack(&packed, 3, "m").unwrap();
        assert_eq!(parts, [&[1.0, 2.0][..], &[][..], &[3.5][..]]);
        assert!(unpack(&packed, 2, "m").is_err());
        assert!(unpack(&packed[..packed.len() - 1], 3, "m").is_err());
        assert!(unpack(&[packed.clone(), vec![9.0]].concat(), 3, "m").is_err());
        assert!(unpack(&[], 0, "m").is_err());
        assert!(unpack(&[1.0, 0.5], 1, "m").is_err());
        let mut into = [0.0; 2];
        assert!(restore(&mut into, &[1.0], "m", "tp").is_err());
        restore(&mut into, &[1.0, 2.0], "m", "tp").unwrap();
        assert_eq!(into, [1.0, 2.0]);
    }
}
