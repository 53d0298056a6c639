//! `CsvData::from_reader` (and `from_path` for gzip input) on arbitrary bytes: the first byte
//! picks the options, the rest is the file. Any outcome but a panic is fine; a success must be
//! self-consistent.
#![no_main]

use keras_core::data::loaders::{Column, CsvData, CsvHeader, CsvOptions, LabelEncoding};
use libfuzzer_sys::fuzz_target;

fn options(selector: u8) -> CsvOptions {
    let header = match selector & 0b11 {
        0 | 3 => CsvHeader::Names,
        1 => CsvHeader::Absent,
        _ => CsvHeader::SklearnMeta,
    };
    let encoding = match (selector >> 2) & 0b11 {
        0 | 3 => LabelEncoding::Numeric,
        1 => LabelEncoding::FirstAppearance,
        _ => LabelEncoding::Sorted,
    };
    let mut options = CsvOptions::new()
        .with_header(header)
        .with_label_encoding(encoding)
        .with_delimiter(if selector & 0x40 != 0 { b';' } else { b',' });
    options = match (selector >> 4) & 0b11 {
        0 => options,
        1 => options.with_label_column(0),
        2 => options.with_label_column("label"),
        _ => options.without_label(),
    };
    if selector & 0x80 != 0 {
        options = options.with_skip_columns([Column::Index(1)]);
    }
    options
}

fn check(data: &CsvData) {
    assert_eq!(data.features.len(), data.num_rows * data.num_features);
    assert!(data.labels.is_empty() || data.labels.len() == data.num_rows);
    assert_eq!(data.feature_names.len(), data.num_features);
    assert!(data.num_rows > 0);
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, text)) = input.split_first() else {
        return;
    };
    let options = options(selector);
    if text.starts_with(&[0x1f, 0x8b]) {
        // gzip is only recognised by `from_path`.
        let path =
            std::env::temp_dir().join(format!("keras-fuzz-csv-{}.csv.gz", std::process::id()));
        std::fs::write(&path, text).expect("the fuzzer's temp file is writable");
        if let Ok(data) = CsvData::from_path(&path, &options) {
            check(&data);
        }
        return;
    }
    if let Ok(data) = CsvData::from_reader(text, &options) {
        check(&data);
    }
});
