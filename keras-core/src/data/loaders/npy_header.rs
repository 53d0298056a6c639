//! The `.npy` header: a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.

/// The three keys of a `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NpyHeader {
    /// The dtype string (`<f4`), or `None` for a structured dtype (a list).
    pub descr: Option<String>,
    /// Whether the data is column-major.
    pub fortran_order: bool,
    /// The array's shape (`[]` for a scalar).
    pub shape: Vec<usize>,
}

/// One value of the dict.
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    Other,
}

/// Parses the header dict; unknown keys are ignored, missing ones are errors.
pub(crate) fn parse_header(text: &str) -> Result<NpyHeader, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        let value = p.value()?;
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(Some(s)),
            ("descr", _) => descr = Some(None),
            ("fortran_order", Value::Bool(b)) => fortran_order = Some(b),
            ("fortran_order", _) => return Err("'fortran_order' is not True or False".into()),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("shape", _) => return Err("'shape' is not a tuple of non-negative integers".into()),
            _ => {}
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.skip_ws();
            p.expect(b'}')?;
            break;
        }
    }
    let missing = |key: &str| format!("header has no '{key}' key");
    Ok(NpyHeader {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            return Ok(());
        }
        let found = self
            .peek()
            .map_or("the end".to_string(), |f| format!("`{}`", f as char));
        Err(format!(
            "header dict: expected `{}` at byte {}, found {found}",
            c as char, self.i
        ))
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(format!(
                    "header dict: expected a quoted string at byte {}",
                    self.i
                ))
            }
        };
        self.i += 1;
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == quote {
                let s = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                return Ok(s);
            }
            self.i += 1;
        }
        Err("header dict: unterminated string".to_string())
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(Value::Str),
            Some(b'(') => self.tuple().map(Value::Tuple),
            Some(b'T') if self.s[self.i..].starts_with(b"True") => {
                self.i += 4;
                Ok(Value::Bool(true))
            }
            Some(b'F') if self.s[self.i..].starts_with(b"False") => {
                self.i += 5;
                Ok(Value::Bool(false))
            }
            Some(b'[' | b'{') => self.skip_nested().map(|()| Value::Other),
            _ => Err(format!("header dict: unexpected value at byte {}", self.i)),
        }
    }

    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            let dim = digits.parse::<usize>().map_err(|_| {
                let reason = if digits.is_empty() {
                    "is not a non-negative integer"
                } else {
                    "is too large"
                };
                format!("'shape' entry at byte {start} {reason}")
            })?;
            dims.push(dim);
            self.eat(b'L'); // Python 2 long suffix.
            self.skip_ws();
            if !self.eat(b',') {
                self.skip_ws();
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }

    /// Skips a bracketed value (a structured dtype's list), strings included.
    fn skip_nested(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'\'' | b'"' => {
                    self.string()?;
                    continue;
                }
                b'[' | b'{' | b'(' => depth += 1,
                b']' | b'}' | b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.i += 1;
            if depth == 0 {
                return Ok(());
            }
        }
        Err("header dict: unterminated list".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_headers_parse() {
        let h = parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n")
            .unwrap();
        assert_eq!(
            h,
            NpyHeader {
                descr: Some("<f4".into()),
                fortran_order: false,
                shape: vec![2, 3]
            }
        );
        let h = parse_header("{'descr': '|b1', 'fortran_order': True, 'shape': (5,), }").unwrap();
        assert_eq!((h.fortran_order, h.shape), (true, vec![5]));
        assert_eq!(
            parse_header("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<i8\"}")
                .unwrap()
                .shape,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn a_structured_dtype_has_no_descr_string() {
        let h = parse_header(
            "{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, 'shape': (2,), }",
        )
        .unwrap();
        assert_eq!(h.descr, None);
    }

    #[test]
    fn malformed_headers_are_errors() {
        for bad in [
            "",
            "{",
            "{'descr': '<f4'",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': [('a', '<f4'), 'fortran_order': False, 'shape': (2,), }",
        ] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }
}
