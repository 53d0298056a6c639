//! Python's number formatting (`repr(float)` and format specs like `02d`, `.4f`, `.2e`), so that
//! file names, CSV cells and progress lines read as Keras writes them.

/// Python's `repr(x)` for a float: the shortest digits that round-trip, `.0` on integral values,
/// scientific notation (`1e-05`, `1.5e+16`) below `1e-4` or from `1e16` on.
///
/// ```
/// use keras_core::persist::py_format::repr_f64;
///
/// assert_eq!(repr_f64(0.5), "0.5");
/// assert_eq!(repr_f64(2.0), "2.0");
/// assert_eq!(repr_f64(0.1f32 as f64), "0.10000000149011612");
/// assert_eq!(repr_f64(1e-5), "1e-05");
/// assert_eq!(repr_f64(f64::NAN), "nan");
/// ```
pub fn repr_f64(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        return python_exponent(&format!("{x:e}"));
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Python's `%e`-style exponent: Rust's `1.5e-5` becomes `1.5e-05`, `1e16` becomes `1e+16`.
fn python_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => rust.to_string(),
    }
}

/// A value that a format field can name.
///
/// ```
/// use keras_core::persist::py_format::{format_spec, PyValue};
///
/// assert_eq!(format_spec(PyValue::Int(5), "03d").unwrap(), "005");
/// assert_eq!(format_spec(PyValue::Float(0.5), "").unwrap(), "0.5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyValue {
    /// An integer (`epoch`, `batch`).
    Int(i64),
    /// A float (log values).
    Float(f64),
}

/// Formats `value` with a Python format spec (the part after `:` in `{name:spec}`).
///
/// Supported: `[0][width][.precision][type]` with `type` one of `d`, `f`, `F`, `e`, `E`, `%` or
/// none. `d` on a float is an error, as in Python.
///
/// ```
/// use keras_core::persist::py_format::{format_spec, PyValue};
///
/// assert_eq!(format_spec(PyValue::Int(3), "02d").unwrap(), "03");
/// assert_eq!(format_spec(PyValue::Float(0.123456), ".4f").unwrap(), "0.1235");
/// assert_eq!(format_spec(PyValue::Float(0.000123), ".2e").unwrap(), "1.23e-04");
/// assert!(format_spec(PyValue::Float(1.5), "02d").is_err());
/// ```
pub fn format_spec(value: PyValue, spec: &str) -> Result<String, String> {
    let Spec {
        zero,
        width,
        precision,
        kind,
    } = parse_spec(spec)?;
    let body = match (kind, value) {
        (Some('d'), PyValue::Int(i)) => i.to_string(),
        (Some('d'), PyValue::Float(_)) => {
            return Err("unknown format code 'd' for a float value".into());
        }
        (None, PyValue::Int(i)) if precision.is_none() => i.to_string(),
        (None, PyValue::Float(x)) if precision.is_none() => repr_f64(x),
        (None, v) => fixed(as_f64(v), precision.unwrap_or(6)),
        (Some('f' | 'F'), v) => fixed(as_f64(v), precision.unwrap_or(6)),
        (Some('%'), v) => format!("{}%", fixed(as_f64(v) * 100.0, precision.unwrap_or(6))),
        (Some(c), v) => {
            let s = python_exponent(&format!("{:.*e}", precision.unwrap_or(6), as_f64(v)));
            if c == 'E' {
                s.to_uppercase()
            } else {
                s
            }
        }
    };
    Ok(pad(body, width, zero))
}

/// The largest width or precision a format spec may ask for: a file name is at most 255 bytes
/// on common file systems, and a larger field could only fail (or fill memory) at save time.
pub const MAX_SPEC_WIDTH: usize = 255;

/// A parsed `[0][width][.precision][type]`.
struct Spec {
    zero: bool,
    width: usize,
    precision: Option<usize>,
    kind: Option<char>,
}

/// Checks a format spec's syntax and bounds without a value: what [`format_spec`] would reject
/// for any value (a bad type, a width or precision over [`MAX_SPEC_WIDTH`]).
///
/// ```
/// use keras_core::persist::py_format::check_spec;
///
/// assert!(check_spec("02d").is_ok());
/// assert!(check_spec("99999999999d").is_err());
/// ```
pub fn check_spec(spec: &str) -> Result<(), String> {
    parse_spec(spec).map(drop)
}

fn parse_spec(spec: &str) -> Result<Spec, String> {
    let mut rest = spec;
    let zero = rest.starts_with('0');
    if zero {
        rest = &rest[1..];
    }
    let bounded = |digits: &str, what: &str| -> Result<usize, String> {
        match digits.parse::<usize>() {
            Ok(n) if n <= MAX_SPEC_WIDTH => Ok(n),
            _ => Err(format!(
                "{what} {digits} in `{spec}` is larger than {MAX_SPEC_WIDTH}"
            )),
        }
    };
    let width_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let width = if width_len > 0 {
        bounded(&rest[..width_len], "width")?
    } else {
        0
    };
    rest = &rest[width_len..];
    let mut precision = None;
    if let Some(p) = rest.strip_prefix('.') {
        let n = p.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(format!("format specifier `{spec}` is missing a precision"));
        }
        precision = Some(bounded(&p[..n], "precision")?);
        rest = &p[n..];
    }
    let kind = match rest {
        "" => None,
        "d" | "f" | "F" | "e" | "E" | "%" => rest.chars().next(),
        other => return Err(format!("unsupported format type `{other}` in `{spec}`")),
    };
    if kind == Some('d') && precision.is_some() {
        return Err("precision not allowed in integer format specifier".into());
    }
    Ok(Spec {
        zero,
        width,
        precision,
        kind,
    })
}

fn as_f64(v: PyValue) -> f64 {
    match v {
        PyValue::Int(i) => i as f64,
        PyValue::Float(x) => x,
    }
}

fn fixed(x: f64, precision: usize) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:.precision$}")
    }
}

fn pad(body: String, width: usize, zero: bool) -> String {
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if zero {
        match body.strip_prefix('-') {
            Some(digits) => format!("-{}{digits}", "0".repeat(fill)),
            None => format!("{}{body}", "0".repeat(fill)),
        }
    } else {
        // Python right-aligns numbers.
        format!("{}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python_for_common_values() {
        assert_eq!(repr_f64(0.0), "0.0");
        assert_eq!(repr_f64(-1.25), "-1.25");
        assert_eq!(repr_f64(123456.0), "123456.0");
        assert_eq!(repr_f64(1e16), "1e+16");
        assert_eq!(repr_f64(0.0001), "0.0001");
        assert_eq!(repr_f64(0.5f32 as f64 / 10000.0), "5e-05");
        assert_eq!(repr_f64(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn specs_match_python() {
        assert_eq!(format_spec(PyValue::Int(12), "02d").unwrap(), "12");
        assert_eq!(format_spec(PyValue::Int(7), "04d").unwrap(), "0007");
        assert_eq!(format_spec(PyValue::Int(7), "").unwrap(), "7");
        assert_eq!(format_spec(PyValue::Int(7), ".2f").unwrap(), "7.00");
        assert_eq!(
            format_spec(PyValue::Float(-0.5), "06.2f").unwrap(),
            "-00.50"
        );
        assert_eq!(
            format_spec(PyValue::Float(0.25), "8.3f").unwrap(),
            "   0.250"
        );
        assert_eq!(format_spec(PyValue::Float(0.25), ".1%").unwrap(), "25.0%");
        assert_eq!(
            format_spec(PyValue::Float(12345.678), ".3E").unwrap(),
            "1.235E+04"
        );
        assert_eq!(format_spec(PyValue::Float(0.1), "").unwrap(), "0.1");
    }

    #[test]
    fn unsupported_specs_are_errors() {
        assert!(format_spec(PyValue::Float(1.0), "x").is_err());
        assert!(format_spec(PyValue::Float(1.0), ".f").is_err());
        assert!(format_spec(PyValue::Int(1), ".2d").is_err());
    }
}
