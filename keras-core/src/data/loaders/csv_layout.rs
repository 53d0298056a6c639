//! Which CSV columns hold the features and which the label, resolved against the header.

use super::csv_options::{Column, CsvOptions};
use crate::{Error, Result};

/// The columns of a CSV file, resolved against its first row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The number of columns every row must have.
    pub width: usize,
    /// The label's 0-based column, if any.
    pub label: Option<usize>,
    /// The feature columns, 0-based, in file order.
    pub features: Vec<usize>,
}

impl Layout {
    /// Resolves the label and skipped columns against the column `names` (from a header when
    /// `named`, else generated), so that bad choices fail before any row is read.
    pub(crate) fn resolve(options: &CsvOptions, names: &[String], named: bool) -> Result<Self> {
        let width = names.len();
        let label = options
            .label_column()
            .map(|c| resolve_column(c, names, named, "label_column"))
            .transpose()?;
        let mut skipped = vec![false; width];
        for column in options.skip_columns() {
            let c = resolve_column(column, names, named, "skip_columns")?;
            if Some(c) == label {
                let reason = format!("column {} is the label column and cannot be skipped", c + 1);
                return Err(Error::invalid("skip_columns", reason));
            }
            skipped[c] = true;
        }
        let features = (0..width)
            .filter(|&c| !skipped[c] && Some(c) != label)
            .collect();
        Ok(Layout {
            width,
            label,
            features,
        })
    }
}

/// `column_1`, `column_2`, ...: names for files without a header of names.
pub(crate) fn generated_names(width: usize) -> Vec<String> {
    (1..=width).map(|c| format!("column_{c}")).collect()
}

fn resolve_column(
    column: &Column,
    names: &[String],
    named: bool,
    arg: &'static str,
) -> Result<usize> {
    let width = names.len();
    match column {
        Column::Last if width > 0 => Ok(width - 1),
        Column::Index(i) if *i < width => Ok(*i),
        Column::Last | Column::Index(_) => {
            let i = match column {
                Column::Index(i) => i.to_string(),
                _ => "`Last`".to_string(),
            };
            let reason = format!(
                "column index {i} is out of range: rows have {width} columns (0-based indices 0..{width})"
            );
            Err(Error::invalid(arg, reason))
        }
        Column::Name(name) if !named => Err(Error::invalid(
            arg,
            format!(
                "column `{name}` is given by name but the file is read without a header of names; \
                 give a Column::Index"
            ),
        )),
        Column::Name(name) => names.iter().position(|n| n == name).ok_or_else(|| {
            let reason = format!(
                "no column named `{name}`; the header holds: {}",
                names.join(", ")
            );
            Error::invalid(arg, reason)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_label_is_the_last_column_and_the_rest_are_features() {
        let layout = Layout::resolve(&CsvOptions::new(), &names(&["a", "b", "c"]), true).unwrap();
        assert_eq!(
            layout,
            Layout {
                width: 3,
                label: Some(2),
                features: vec![0, 1]
            }
        );
    }

    #[test]
    fn skipped_columns_and_a_middle_label_leave_the_others_in_order() {
        let options = CsvOptions::new()
            .with_label_column("b")
            .with_skip_columns([0]);
        let layout = Layout::resolve(&options, &names(&["id", "b", "c", "d"]), true).unwrap();
        assert_eq!(
            layout,
            Layout {
                width: 4,
                label: Some(1),
                features: vec![2, 3]
            }
        );
    }

    #[test]
    fn without_a_label_every_column_is_a_feature() {
        let layout = Layout::resolve(
            &CsvOptions::new().without_label(),
            &generated_names(2),
            false,
        );
        assert_eq!(layout.unwrap().features, [0, 1]);
    }

    #[test]
    fn a_name_needs_a_header_of_names() {
        let options = CsvOptions::new().with_label_column("column_1");
        assert!(Layout::resolve(&options, &generated_names(2), false).is_err());
    }

    #[test]
    fn an_empty_row_has_no_last_column() {
        assert!(Layout::resolve(&CsvOptions::new(), &[], true).is_err());
    }
}
