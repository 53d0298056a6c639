//! What a CSV file looks like: header kind, delimiter, label column, skipped columns, scaling.

/// A column of a CSV file, by position or by header name.
///
/// `usize` and `&str` convert into it, so setters accept `3` or `"species"` directly.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::Column;
///
/// assert_eq!(Column::from(2), Column::Index(2));
/// assert_eq!(Column::from("species"), Column::Name("species".to_string()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 0-based position in the row (error messages count columns from 1).
    Index(usize),
    /// A name from the header row; needs [`CsvHeader::Names`].
    Name(String),
    /// The last column of the row.
    Last,
}

impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_string())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

/// What the first row of a CSV file holds.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{CsvHeader, CsvOptions};
///
/// // scikit-learn's bundled files start with `rows,features,class names...`.
/// let options = CsvOptions::new().with_header(CsvHeader::SklearnMeta);
/// assert_eq!(options.header(), &CsvHeader::SklearnMeta);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvHeader {
    /// Column names, one per column (the usual CSV header).
    #[default]
    Names,
    /// No header: the first row is data.
    Absent,
    /// scikit-learn's metadata line `n_rows,n_features,class_0,class_1,...` (iris, wine,
    /// breast cancer). The row and feature counts are checked against the data and the class
    /// names are reported in [`CsvData::class_names`](super::CsvData::class_names).
    SklearnMeta,
}

/// How the label column turns into `f32` labels.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{CsvOptions, LabelEncoding};
///
/// let options = CsvOptions::new().with_label_encoding(LabelEncoding::Sorted);
/// assert_eq!(options.label_encoding(), LabelEncoding::Sorted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelEncoding {
    /// Labels are numbers and are kept as they are (a non-number is an error).
    #[default]
    Numeric,
    /// Labels are strings; class ids follow the order in which each first appears.
    FirstAppearance,
    /// Labels are strings; class ids follow byte-wise sorted order, like scikit-learn's
    /// `LabelEncoder` (`np.unique`).
    Sorted,
}

/// How to read a CSV file into features and labels; built with `with_*` setters.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{CsvHeader, CsvOptions};
///
/// // digits: no header, 64 pixel columns in 0..=16 then the digit; scale pixels to [0, 1].
/// let options = CsvOptions::new()
///     .with_header(CsvHeader::Absent)
///     .with_feature_scale(1.0 / 16.0);
/// assert_eq!(options.delimiter(), b',');
/// assert_eq!(options.feature_scale(), 0.0625);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    header: CsvHeader,
    delimiter: u8,
    label_column: Option<Column>,
    skip_columns: Vec<Column>,
    feature_scale: f32,
    label_encoding: LabelEncoding,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            header: CsvHeader::Names,
            delimiter: b',',
            label_column: Some(Column::Last),
            skip_columns: Vec::new(),
            feature_scale: 1.0,
            label_encoding: LabelEncoding::Numeric,
        }
    }
}

impl CsvOptions {
    /// The defaults: a header of names, `,` delimiter, label in the last column, numeric labels.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the first row holds. Defaults to `CsvHeader::Names`.
    pub fn with_header(mut self, header: CsvHeader) -> Self {
        self.header = header;
        self
    }

    /// Shorthand: `true` is [`CsvHeader::Names`], `false` is [`CsvHeader::Absent`].
    /// Defaults to `true`.
    pub fn with_has_header(self, has_header: bool) -> Self {
        self.with_header(if has_header {
            CsvHeader::Names
        } else {
            CsvHeader::Absent
        })
    }

    /// The field separator, one byte (`b' '` for the diabetes files). Defaults to `b','`.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The column holding the label. Defaults to `Column::Last`.
    pub fn with_label_column(mut self, column: impl Into<Column>) -> Self {
        self.label_column = Some(column.into());
        self
    }

    /// Reads every (non-skipped) column as a feature; `labels` comes back empty.
    /// Defaults to a label in the last column.
    pub fn without_label(mut self) -> Self {
        self.label_column = None;
        self
    }

    /// Columns to drop (ids, free text, ...). Defaults to `[]`.
    pub fn with_skip_columns<C: Into<Column>>(
        mut self,
        columns: impl IntoIterator<Item = C>,
    ) -> Self {
        self.skip_columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Every feature is multiplied by this (`1.0 / 16.0` for digits pixels). Defaults to `1.0`.
    pub fn with_feature_scale(mut self, scale: f32) -> Self {
        self.feature_scale = scale;
        self
    }

    /// How labels become numbers. Defaults to `LabelEncoding::Numeric`.
    pub fn with_label_encoding(mut self, encoding: LabelEncoding) -> Self {
        self.label_encoding = encoding;
        self
    }

    /// What the first row holds.
    pub fn header(&self) -> &CsvHeader {
        &self.header
    }

    /// The field separator.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The label column, `None` when the file is read without labels.
    pub fn label_column(&self) -> Option<&Column> {
        self.label_column.as_ref()
    }

    /// The columns that are dropped.
    pub fn skip_columns(&self) -> &[Column] {
        &self.skip_columns
    }

    /// The factor every feature is multiplied by.
    pub fn feature_scale(&self) -> f32 {
        self.feature_scale
    }

    /// How labels become numbers.
    pub fn label_encoding(&self) -> LabelEncoding {
        self.label_encoding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_ones() {
        let o = CsvOptions::new();
        assert_eq!(o.header(), &CsvHeader::Names);
        assert_eq!(o.delimiter(), b',');
        assert_eq!(o.label_column(), Some(&Column::Last));
        assert!(o.skip_columns().is_empty());
        assert_eq!(o.feature_scale(), 1.0);
        assert_eq!(o.label_encoding(), LabelEncoding::Numeric);
    }

    #[test]
    fn has_header_false_means_absent() {
        let o = CsvOptions::new().with_has_header(false);
        assert_eq!(o.header(), &CsvHeader::Absent);
        assert_eq!(o.with_has_header(true).header(), &CsvHeader::Names);
    }

    #[test]
    fn skip_columns_accept_indices_and_names() {
        let o = CsvOptions::new().with_skip_columns([0, 2]);
        assert_eq!(o.skip_columns(), &[Column::Index(0), Column::Index(2)]);
        let o = o.with_skip_columns(["id"]);
        assert_eq!(o.skip_columns(), &[Column::Name("id".into())]);
    }
}
