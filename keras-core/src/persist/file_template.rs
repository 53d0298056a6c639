//! File path templates with Python `str.format` fields, as `ModelCheckpoint`'s `filepath`
//! (`"ckpt-{epoch:02d}-{val_loss:.4f}.safetensors"`).

use super::py_format::{check_spec, format_spec, PyValue};
use crate::{Error, Result};

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field { name: String, spec: String },
}

/// A parsed file path template: literal text and `{name}` / `{name:spec}` fields; `{{` and `}}`
/// stand for literal braces.
///
/// ```
/// use keras_core::{persist::FileTemplate, state::Logs};
///
/// let t = FileTemplate::parse("ckpt-{epoch:02d}-{val_loss:.4f}.safetensors")?;
/// let mut logs = Logs::new();
/// logs.set("val_loss", 0.123456);
/// // Epoch index 2 (0-based) is written as Keras does, 1-based: `03`.
/// assert_eq!(t.render(2, None, &logs)?, "ckpt-03-0.1235.safetensors");
/// assert!(t.render(2, None, &Logs::new()).is_err()); // no `val_loss` in the logs
/// assert!(FileTemplate::parse("ckpt-{epoch").is_err());
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTemplate {
    template: String,
    pieces: Vec<Piece>,
}

impl FileTemplate {
    /// Parses `template`; an empty template, unbalanced braces, an empty field name or a bad
    /// format spec (see [`check_spec`]) are [`Error::BadTemplate`].
    pub fn parse(template: &str) -> Result<Self> {
        let bad = |reason: &str| Error::BadTemplate {
            template: template.to_string(),
            reason: reason.to_string(),
        };
        if template.is_empty() {
            return Err(bad("the path is empty; name the file to write"));
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(bad("single `}` (write `}}` for a literal brace)")),
                '{' => {
                    let mut field = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') => return Err(bad("nested `{` inside a field")),
                            Some(ch) => field.push(ch),
                            None => {
                                return Err(bad("unclosed `{` (write `{{` for a literal brace)"))
                            }
                        }
                    }
                    let (name, spec) = field.split_once(':').unwrap_or((field.as_str(), ""));
                    if name.is_empty() {
                        return Err(bad("empty field name; name a log key, `epoch` or `batch`"));
                    }
                    check_spec(spec).map_err(|reason| bad(&reason))?;
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field {
                        name: name.to_string(),
                        spec: spec.to_string(),
                    });
                }
                other => text.push(other),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Self {
            template: template.to_string(),
            pieces,
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// `true` when the template has at least one field (each save may get a new file).
    pub fn has_fields(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Field { .. }))
    }

    /// Fills the fields: `epoch` is 1-based (pass the 0-based index, as Keras adds 1), `batch` is
    /// 1-based when given, every other name is a log key. An unknown name or a spec that does not
    /// fit the value is [`Error::BadTemplate`].
    pub fn render(
        &self,
        epoch: usize,
        batch: Option<usize>,
        logs: &crate::state::Logs,
    ) -> Result<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field { name, spec } => {
                    let value = match name.as_str() {
                        "epoch" => PyValue::Int(epoch as i64 + 1),
                        "batch" if batch.is_some() => PyValue::Int(batch.unwrap_or(0) as i64 + 1),
                        key => match logs.get(key) {
                            Some(v) => PyValue::Float(v as f64),
                            None => {
                                return Err(Error::BadTemplate {
                                    template: self.template.clone(),
                                    reason: format!(
                                        "field `{key}` is not `epoch`, `batch` or a log key; available keys: {}",
                                        logs.key_list()
                                    ),
                                })
                            }
                        },
                    };
                    let text = format_spec(value, spec).map_err(|reason| Error::BadTemplate {
                        template: self.template.clone(),
                        reason: format!("field `{name}`: {reason}"),
                    })?;
                    out.push_str(&text);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Logs;

    #[test]
    fn braces_can_be_escaped() {
        let t = FileTemplate::parse("a{{b}}-{epoch}").unwrap();
        assert_eq!(t.render(0, None, &Logs::new()).unwrap(), "a{b}-1");
        assert!(t.has_fields());
        assert!(!FileTemplate::parse("plain.safetensors")
            .unwrap()
            .has_fields());
    }

    #[test]
    fn batch_is_one_based_when_saving_by_batch() {
        let t = FileTemplate::parse("e{epoch}-b{batch:03d}").unwrap();
        assert_eq!(t.render(1, Some(9), &Logs::new()).unwrap(), "e2-b010");
        assert!(t.render(1, None, &Logs::new()).is_err());
    }

    #[test]
    fn an_unknown_field_names_the_available_keys() {
        let mut logs = Logs::new();
        logs.set("loss", 1.0);
        let err = FileTemplate::parse("{val_acc:.2f}")
            .unwrap()
            .render(0, None, &logs)
            .unwrap_err();
        match err {
            Error::BadTemplate { template, reason } => {
                assert_eq!(template, "{val_acc:.2f}");
                assert!(
                    reason.contains("val_acc") && reason.contains("loss"),
                    "{reason}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_integer_spec_on_a_float_is_rejected() {
        let mut logs = Logs::new();
        logs.set("loss", 1.0);
        let t = FileTemplate::parse("{loss:02d}").unwrap();
        assert!(matches!(
            t.render(0, None, &logs),
            Err(Error::BadTemplate { .. })
        ));
    }

    #[test]
    fn unbalanced_braces_are_rejected() {
        assert!(FileTemplate::parse("x}").is_err());
        assert!(FileTemplate::parse("{}").is_err());
        assert!(FileTemplate::parse("{a{b}}").is_err());
    }
}
