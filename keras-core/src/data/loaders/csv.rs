//! CSV files into flat `f32` features and labels, with errors that name the row and column.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::csv_layout::{generated_names, Layout};
use super::csv_lines::LineCounter;
use super::csv_options::{CsvHeader, CsvOptions, LabelEncoding};
use super::gzip;
use crate::{Error, Result};

/// A CSV file read into row-major features and one label per row.
///
/// `features[r * num_features + f]` is feature `f` of row `r`; `labels[r]` its label (empty when
/// read [`without_label`](CsvOptions::without_label)). Files starting with the gzip magic bytes
/// (`.csv.gz`) are decompressed on the fly by [`from_path`](CsvData::from_path).
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{CsvData, CsvOptions, LabelEncoding};
///
/// let text = "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n4.9,1.4,setosa\n";
/// let options = CsvOptions::new().with_label_encoding(LabelEncoding::FirstAppearance);
/// let data = CsvData::from_reader(text.as_bytes(), &options)?;
/// assert_eq!((data.num_rows, data.num_features), (3, 2));
/// assert_eq!(data.features, [5.1, 1.4, 7.0, 4.7, 4.9, 1.4]);
/// assert_eq!(data.labels, [0.0, 1.0, 0.0]);
/// assert_eq!(data.feature_names, ["sepal", "petal"]);
/// assert_eq!(data.class_names, ["setosa", "versicolor"]);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CsvData {
    /// Row-major features, `num_rows * num_features` values, already scaled.
    pub features: Vec<f32>,
    /// One label per row (a class id for string labels); empty without a label column.
    pub labels: Vec<f32>,
    /// The number of data rows (the header excluded).
    pub num_rows: usize,
    /// The number of feature columns.
    pub num_features: usize,
    /// A name per feature column: the header's, or `column_<1-based index>` without one.
    pub feature_names: Vec<String>,
    /// Class names by class id: from string labels, or from a scikit-learn header; else empty.
    pub class_names: Vec<String>,
}

impl CsvData {
    /// Reads a CSV file, gzip-compressed or not.
    ///
    /// Errors: [`Error::Io`] naming the path, [`Error::Csv`] for a bad row or field,
    /// [`Error::EmptyData`] without data rows, [`Error::InvalidArgument`] for a label or skipped
    /// column that the file does not have.
    pub fn from_path(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        if gzip::is_gzip(&bytes) {
            let text = gzip::gunzip(&bytes).map_err(|reason| Error::Csv {
                path: path.to_path_buf(),
                row: 1,
                column: 1,
                reason: format!("bad gzip data: {reason}"),
            })?;
            return read(&text, path, options);
        }
        read(&bytes, path, options)
    }

    /// Reads CSV text from any reader (errors name the path `<reader>`).
    pub fn from_reader<R: Read>(mut reader: R, options: &CsvOptions) -> Result<Self> {
        let path = Path::new("<reader>");
        let mut text = Vec::new();
        reader
            .read_to_end(&mut text)
            .map_err(|e| Error::io(path, e))?;
        read(&text, path, options)
    }

    /// The features of row `row`, if it exists.
    pub fn row(&self, row: usize) -> Option<&[f32]> {
        let start = row.checked_mul(self.num_features)?;
        self.features
            .get(start..start.checked_add(self.num_features)?)
    }
}

fn read(text: &[u8], path: &Path, options: &CsvOptions) -> Result<CsvData> {
    let scale = options.feature_scale();
    if !(scale.is_finite() && scale != 0.0) {
        return Err(Error::invalid(
            "feature_scale",
            format!("is {scale}; give a finite, non-zero factor (1.0 keeps the values)"),
        ));
    }
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .delimiter(options.delimiter())
        .from_reader(text);
    let mut record = ::csv::StringRecord::new();
    let mut lines = LineCounter::new(text);
    let mut next = |record: &mut ::csv::StringRecord| -> Result<Option<usize>> {
        match rdr.read_record(record) {
            Ok(true) => Ok(Some(
                lines.record_line(record.position().map_or(0, |p| p.byte())),
            )),
            Ok(false) => Ok(None),
            Err(e) => {
                let row = lines.record_line(e.position().map_or(0, |p| p.byte()));
                Err(csv_error(path, e, row))
            }
        }
    };
    let empty = || Error::EmptyData {
        name: "csv",
        reason: format!("{} holds no data rows", path.display()),
    };
    let Some(first_row) = next(&mut record)? else {
        return Err(empty());
    };
    // `pending` is the line of a data row already in `record`.
    let mut class_names = Vec::new();
    let mut declared_rows = None;
    let (names, pending): (Vec<String>, Option<usize>) = match options.header() {
        CsvHeader::Names => (record.iter().map(str::to_string).collect(), None),
        CsvHeader::Absent => (generated_names(record.len()), Some(first_row)),
        CsvHeader::SklearnMeta => {
            let (rows, features, classes) = sklearn_meta(&record, path)?;
            (class_names, declared_rows) = (classes, Some(rows));
            let Some(row) = next(&mut record)? else {
                return Err(empty());
            };
            if record.len().checked_sub(1) != Some(features) {
                let reason = format!(
                    "the header declares {features} features plus a label, but the row has {} columns",
                    record.len()
                );
                let column = record.len().min(features.saturating_add(1)) + 1;
                return Err(csv_at(path, row, column, reason));
            }
            (generated_names(record.len()), Some(row))
        }
    };
    let named = options.header() == &CsvHeader::Names;
    let layout = Layout::resolve(options, &names, named)?;
    let feature_names = layout.features.iter().map(|&c| names[c].clone()).collect();
    let mut out = Builder {
        path,
        options,
        layout: &layout,
        features: Vec::new(),
        labels: Vec::new(),
        label_ids: HashMap::new(),
        label_names: Vec::new(),
        rows: 0,
    };
    // scikit-learn's header names the classes: a numeric label must be one of their ids.
    let declared_classes = (options.header() == &CsvHeader::SklearnMeta
        && options.label_encoding() == LabelEncoding::Numeric
        && !class_names.is_empty())
    .then_some(class_names.len())
    .zip(layout.label);
    let check_class = |out: &Builder<'_>, row: usize| -> Result<()> {
        let (Some((classes, column)), Some(&label)) = (declared_classes, out.labels.last()) else {
            return Ok(());
        };
        if label.fract() == 0.0 && label >= 0.0 && (label as usize) < classes {
            return Ok(());
        }
        Err(csv_at(
            path,
            row,
            column + 1,
            format!(
                "label {label} is not a class id of the {classes} classes the header names (0..{classes})"
            ),
        ))
    };
    if let Some(row) = pending {
        out.push(&record, row)?;
        check_class(&out, row)?;
    }
    while let Some(row) = next(&mut record)? {
        out.push(&record, row)?;
        check_class(&out, row)?;
    }
    if out.rows == 0 {
        return Err(empty());
    }
    if let Some(declared) = declared_rows.filter(|&d| d != out.rows) {
        return Err(csv_at(
            path,
            1,
            1,
            format!(
                "the header declares {declared} rows but the file holds {}",
                out.rows
            ),
        ));
    }
    if options.label_encoding() != LabelEncoding::Numeric {
        class_names = out.finish_label_names();
    }
    Ok(CsvData {
        num_rows: out.rows,
        num_features: layout.features.len(),
        features: out.features,
        labels: out.labels,
        feature_names,
        class_names,
    })
}

/// Accumulates rows.
struct Builder<'a> {
    path: &'a Path,
    options: &'a CsvOptions,
    layout: &'a Layout,
    features: Vec<f32>,
    labels: Vec<f32>,
    label_ids: HashMap<String, usize>,
    label_names: Vec<String>,
    rows: usize,
}

impl Builder<'_> {
    fn push(&mut self, record: &::csv::StringRecord, row: usize) -> Result<()> {
        let width = self.layout.width;
        if record.len() != width {
            let column = record.len().min(width) + 1;
            let reason = format!("expected {width} columns, found {}", record.len());
            return Err(csv_at(self.path, row, column, reason));
        }
        let scale = self.options.feature_scale();
        for &c in &self.layout.features {
            let value = parse_number(record.get(c).unwrap_or_default())
                .map_err(|reason| csv_at(self.path, row, c + 1, reason))?;
            self.features.push(value * scale);
        }
        if let Some(c) = self.layout.label {
            let text = record.get(c).unwrap_or_default();
            let label = match self.options.label_encoding() {
                LabelEncoding::Numeric => parse_number(text).map_err(|reason| {
                    let hint = "; for string labels use LabelEncoding::FirstAppearance or Sorted";
                    csv_at(self.path, row, c + 1, format!("label: {reason}{hint}"))
                })?,
                LabelEncoding::FirstAppearance | LabelEncoding::Sorted => {
                    let next_id = self.label_names.len();
                    let id = *self.label_ids.entry(text.to_string()).or_insert(next_id);
                    if id == next_id {
                        self.label_names.push(text.to_string());
                    }
                    id as f32
                }
            };
            self.labels.push(label);
        }
        self.rows += 1;
        Ok(())
    }

    /// Class names by id; renumbers the labels for [`LabelEncoding::Sorted`].
    fn finish_label_names(&mut self) -> Vec<String> {
        let mut names = std::mem::take(&mut self.label_names);
        if self.options.label_encoding() == LabelEncoding::Sorted {
            let mut order: Vec<usize> = (0..names.len()).collect();
            order.sort_by(|&a, &b| names[a].cmp(&names[b]));
            let mut new_id = vec![0usize; names.len()];
            for (new, &old) in order.iter().enumerate() {
                new_id[old] = new;
            }
            for label in &mut self.labels {
                *label = new_id[*label as usize] as f32;
            }
            names = order.iter().map(|&old| names[old].clone()).collect();
        }
        names
    }
}

fn parse_number(text: &str) -> std::result::Result<f32, String> {
    if text.is_empty() {
        return Err("empty field, expected a number".to_string());
    }
    text.parse::<f32>()
        .map_err(|_| format!("cannot parse `{text}` as a number"))
}

/// Parses scikit-learn's `n_rows,n_features,class names...` line.
fn sklearn_meta(record: &::csv::StringRecord, path: &Path) -> Result<(usize, usize, Vec<String>)> {
    let field = |i: usize, what: &str| -> Result<usize> {
        let text = record.get(i).unwrap_or_default();
        text.parse::<usize>().map_err(|_| {
            let reason = format!("scikit-learn header: cannot parse `{text}` as the {what}");
            csv_at(path, 1, i + 1, reason)
        })
    };
    let rows = field(0, "row count")?;
    let features = field(1, "feature count")?;
    let classes = record.iter().skip(2).map(str::to_string).collect();
    Ok((rows, features, classes))
}

fn csv_at(path: &Path, row: usize, column: usize, reason: String) -> Error {
    Error::Csv {
        path: PathBuf::from(path),
        row,
        column,
        reason,
    }
}

fn csv_error(path: &Path, err: ::csv::Error, row: usize) -> Error {
    match err.into_kind() {
        ::csv::ErrorKind::Io(e) => Error::io(path, e),
        ::csv::ErrorKind::Utf8 { err, .. } => csv_at(
            path,
            row,
            err.field() + 1,
            "field is not valid UTF-8".to_string(),
        ),
        other => csv_at(path, row, 1, format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_at(text: &str) -> (usize, usize) {
        match CsvData::from_reader(text.as_bytes(), &CsvOptions::new()) {
            Err(Error::Csv { row, column, .. }) => (row, column),
            other => panic!("expected a CSV error, got {other:?}"),
        }
    }

    #[test]
    fn numbers_parse_and_everything_else_is_named() {
        assert_eq!(parse_number("-1.5e3"), Ok(-1500.0));
        assert_eq!(parse_number("7"), Ok(7.0));
        assert_eq!(
            parse_number("1,5"),
            Err("cannot parse `1,5` as a number".to_string())
        );
        assert_eq!(
            parse_number(""),
            Err("empty field, expected a number".to_string())
        );
    }

    #[test]
    fn rows_are_file_lines_so_blank_lines_and_the_header_count() {
        assert_eq!(error_at("a,b\n1,2\nx,3\n"), (3, 1));
        assert_eq!(error_at("a,b\n\n1,2\n\n3,y\n"), (5, 2));
    }

    #[test]
    fn a_quoted_field_spanning_lines_reports_the_line_it_starts_on() {
        assert_eq!(error_at("a,b\n\"x\n2\",3\n4,5\n"), (2, 1));
        assert_eq!(error_at("a,b\n1,\"2\n\"\n4,z\n"), (4, 2));
    }

    #[test]
    fn row_gives_one_rows_features() {
        let data = CsvData::from_reader("a,b,y\n1,2,0\n3,4,1\n".as_bytes(), &CsvOptions::new());
        let data = data.unwrap();
        assert_eq!(data.row(1), Some([3.0, 4.0].as_slice()));
        assert_eq!(data.row(2), None);
        assert_eq!(data.row(usize::MAX), None);
    }
}
