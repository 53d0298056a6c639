//! Data loaders: CSV (plain and gzip), `.npy` and `.npz`, on real files and on every error path.
//!
//! The `.npy`/`.npz` files under `tests/data/` were written by NumPy 2.4 (see its README.md).

use std::path::{Path, PathBuf};

use keras_core::data::loaders::{
    load_npy, load_npy_expect, load_npz, save_npy, Column, CsvData, CsvHeader, CsvOptions,
    LabelEncoding, NpyArray, Npz,
};
use keras_core::Error;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fresh directory under the system temp dir, unique to this process and test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keras-loaders-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Deterministic pseudo-random bytes for the no-panic checks.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

/// Every prefix and many random corruptions of `bytes` must come back as `Ok` or `Err`.
fn assert_never_panics(bytes: &[u8], parse: impl Fn(&[u8]) -> bool) {
    for cut in 0..bytes.len() {
        assert!(!parse(&bytes[..cut]), "a {cut}-byte prefix parsed");
    }
    let mut rng = Lcg(7);
    for _ in 0..3000 {
        let mut corrupt = bytes.to_vec();
        for _ in 0..1 + rng.next() % 4 {
            let at = rng.next() % corrupt.len();
            corrupt[at] = rng.next() as u8;
        }
        let _ = parse(&corrupt);
    }
}

fn csv_err(text: &str, options: &CsvOptions) -> (usize, usize, String) {
    match CsvData::from_reader(text.as_bytes(), options) {
        Err(Error::Csv {
            row,
            column,
            reason,
            ..
        }) => (row, column, reason),
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

mod csv {
    use super::*;

    #[test]
    fn iris_loads_150_rows_of_4_features_with_3_classes() {
        let options = CsvOptions::new().with_header(CsvHeader::SklearnMeta);
        let iris = CsvData::from_path(data("iris.csv"), &options).unwrap();
        assert_eq!((iris.num_rows, iris.num_features), (150, 4));
        assert_eq!((iris.features.len(), iris.labels.len()), (600, 150));
        assert_eq!(iris.row(0).unwrap(), [5.1, 3.5, 1.4, 0.2]);
        assert_eq!(iris.row(149).unwrap(), [5.9, 3.0, 5.1, 1.8]);
        assert_eq!(iris.row(150), None);
        assert_eq!(iris.class_names, ["setosa", "versicolor", "virginica"]);
        for class in 0..3 {
            assert_eq!(
                iris.labels.iter().filter(|&&l| l == class as f32).count(),
                50
            );
        }
        assert_eq!(
            iris.feature_names,
            ["column_1", "column_2", "column_3", "column_4"]
        );
    }

    #[test]
    fn a_gzip_csv_loads_and_scales_digit_pixels_into_0_1() {
        let options = CsvOptions::new()
            .with_has_header(false)
            .with_feature_scale(1.0 / 16.0);
        let digits = CsvData::from_path(data("digits_head.csv.gz"), &options).unwrap();
        assert_eq!((digits.num_rows, digits.num_features), (5, 64));
        assert_eq!(digits.labels, [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            &digits.row(0).unwrap()[..4],
            [0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]
        );
        assert!(digits.features.iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert!(digits.class_names.is_empty());
    }

    #[test]
    fn a_header_of_names_selects_the_label_and_skipped_columns_by_name() {
        let text = "id,a,label,b\n1,0.5,3,2.5\n2,1.5,7,-1\n";
        let options = CsvOptions::new()
            .with_label_column("label")
            .with_skip_columns(["id"]);
        let d = CsvData::from_reader(text.as_bytes(), &options).unwrap();
        assert_eq!(d.feature_names, ["a", "b"]);
        assert_eq!(d.features, [0.5, 2.5, 1.5, -1.0]);
        assert_eq!(d.labels, [3.0, 7.0]);
        let by_index = CsvOptions::new()
            .with_label_column(2)
            .with_skip_columns([0]);
        assert_eq!(CsvData::from_reader(text.as_bytes(), &by_index).unwrap(), d);
    }

    #[test]
    fn space_separated_files_without_labels_keep_every_column() {
        let text = "59 2 32.1 101.0\n48 1 21.6 87.0\n";
        let options = CsvOptions::new()
            .with_has_header(false)
            .with_delimiter(b' ')
            .without_label();
        let d = CsvData::from_reader(text.as_bytes(), &options).unwrap();
        assert_eq!((d.num_rows, d.num_features), (2, 4));
        assert_eq!(d.features, [59.0, 2.0, 32.1, 101.0, 48.0, 1.0, 21.6, 87.0]);
        assert!(d.labels.is_empty());
    }

    #[test]
    fn string_labels_map_to_ids_by_first_appearance_or_sorted_order() {
        let text = "x,y\n1,virginica\n2,setosa\n3,virginica\n4,versicolor\n";
        let first = CsvOptions::new().with_label_encoding(LabelEncoding::FirstAppearance);
        let d = CsvData::from_reader(text.as_bytes(), &first).unwrap();
        assert_eq!(d.labels, [0.0, 1.0, 0.0, 2.0]);
        assert_eq!(d.class_names, ["virginica", "setosa", "versicolor"]);
        let sorted = CsvOptions::new().with_label_encoding(LabelEncoding::Sorted);
        let d = CsvData::from_reader(text.as_bytes(), &sorted).unwrap();
        assert_eq!(d.labels, [2.0, 0.0, 2.0, 1.0]);
        assert_eq!(d.class_names, ["setosa", "versicolor", "virginica"]);
    }

    #[test]
    fn fields_are_trimmed_and_quoted_fields_are_read() {
        let text = "a,b\n 1.5 ,\"2\"\n";
        let d = CsvData::from_reader(text.as_bytes(), &CsvOptions::new()).unwrap();
        assert_eq!(
            (d.features.as_slice(), d.labels.as_slice()),
            ([1.5].as_slice(), [2.0].as_slice())
        );
    }

    #[test]
    fn a_short_row_names_its_row_the_first_missing_column_and_both_counts() {
        let (row, column, reason) = csv_err("a,b,c\n1,2,3\n4,5\n", &CsvOptions::new());
        assert_eq!((row, column), (3, 3));
        assert_eq!(reason, "expected 3 columns, found 2");
    }

    #[test]
    fn a_long_row_names_the_first_extra_column() {
        let (row, column, reason) =
            csv_err("1,2\n3,4,5\n", &CsvOptions::new().with_has_header(false));
        assert_eq!((row, column), (2, 3));
        assert_eq!(reason, "expected 2 columns, found 3");
    }

    #[test]
    fn a_non_numeric_field_names_its_row_column_and_text() {
        let (row, column, reason) = csv_err("a,b,y\n1,2,0\n3,abc,1\n", &CsvOptions::new());
        assert_eq!((row, column), (3, 2));
        assert_eq!(reason, "cannot parse `abc` as a number");
        let (_, column, reason) = csv_err("a,b,y\n1,,0\n", &CsvOptions::new());
        assert_eq!(
            (column, reason.as_str()),
            (2, "empty field, expected a number")
        );
    }

    #[test]
    fn a_string_label_without_an_encoding_suggests_one() {
        let (row, column, reason) = csv_err("a,y\n1,setosa\n", &CsvOptions::new());
        assert_eq!((row, column), (2, 2));
        assert!(
            reason.contains("`setosa`") && reason.contains("LabelEncoding::FirstAppearance"),
            "{reason}"
        );
    }

    #[test]
    fn an_empty_file_or_a_header_alone_is_empty_data() {
        for text in ["", "a,b,c\n"] {
            let err = CsvData::from_reader(text.as_bytes(), &CsvOptions::new()).unwrap_err();
            assert!(
                matches!(err, Error::EmptyData { name: "csv", .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn a_missing_label_column_name_lists_the_header() {
        let options = CsvOptions::new().with_label_column("species");
        let err = CsvData::from_reader("a,b\n1,2\n".as_bytes(), &options).unwrap_err();
        let Error::InvalidArgument { name, reason } = err else {
            panic!("{err:?}")
        };
        assert_eq!(name, "label_column");
        assert_eq!(reason, "no column named `species`; the header holds: a, b");
    }

    #[test]
    fn bad_column_choices_are_invalid_arguments() {
        let cases = [
            (
                CsvOptions::new().with_label_column(5),
                "label_column",
                "out of range",
            ),
            (
                CsvOptions::new()
                    .with_has_header(false)
                    .with_label_column("a"),
                "label_column",
                "without a header",
            ),
            (
                CsvOptions::new().with_skip_columns([Column::Last]),
                "skip_columns",
                "is the label column",
            ),
            (
                CsvOptions::new().with_skip_columns(["zz"]),
                "skip_columns",
                "no column named `zz`",
            ),
        ];
        for (options, arg, words) in cases {
            match CsvData::from_reader("a,b\n1,2\n".as_bytes(), &options) {
                Err(Error::InvalidArgument { name, reason }) => {
                    assert_eq!(name, arg);
                    assert!(reason.contains(words), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_scikit_learn_header_checks_the_row_and_feature_counts() {
        let meta = CsvOptions::new().with_header(CsvHeader::SklearnMeta);
        let (row, column, reason) = csv_err("3,2,a,b\n1,2,0\n3,4,1\n", &meta);
        assert_eq!((row, column), (1, 1));
        assert_eq!(reason, "the header declares 3 rows but the file holds 2");
        let (row, _, reason) = csv_err("2,3,a,b\n1,2,0\n3,4,1\n", &meta);
        assert_eq!(row, 2);
        assert!(
            reason.contains("declares 3 features plus a label, but the row has 3 columns"),
            "{reason}"
        );
        let (row, column, reason) = csv_err("2,x,a\n1,2,0\n", &meta);
        assert_eq!((row, column), (1, 2));
        assert!(reason.contains("`x`"), "{reason}");
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_the_path() {
        let path = data("no_such_file.csv");
        match CsvData::from_path(&path, &CsvOptions::new()) {
            Err(Error::Io { path: p, .. }) => assert_eq!(p, path),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_multi_member_gzip_csv_loads_every_member_as_gzip_and_pandas_do() {
        // `cat head.csv.gz head.csv.gz > two.csv.gz`: two gzip members, ten rows.
        let dir = temp_dir("two-members");
        let one = std::fs::read(data("digits_head.csv.gz")).unwrap();
        std::fs::write(dir.join("two.csv.gz"), [one.clone(), one].concat()).unwrap();
        let options = CsvOptions::new().with_has_header(false);
        let two = CsvData::from_path(dir.join("two.csv.gz"), &options).unwrap();
        let head = CsvData::from_path(data("digits_head.csv.gz"), &options).unwrap();
        assert_eq!(two.num_rows, 10);
        assert_eq!(
            two.features,
            [head.features.clone(), head.features].concat()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_label_outside_the_classes_a_scikit_learn_header_names_is_a_csv_error() {
        let options = CsvOptions::new().with_header(CsvHeader::SklearnMeta);
        let ok = CsvData::from_reader("2,2,no,yes\n0.5,1,1\n0.25,2,0\n".as_bytes(), &options);
        assert_eq!(ok.unwrap().labels, [1.0, 0.0]);
        let err = CsvData::from_reader("2,2,no,yes\n0.5,1,1\n0.25,2,7\n".as_bytes(), &options)
            .unwrap_err();
        assert!(
            matches!(&err, Error::Csv { row: 3, column: 3, reason, .. } if reason.contains("2 classes")),
            "{err}"
        );
    }

    #[test]
    fn a_corrupt_gzip_file_is_a_csv_error() {
        let dir = temp_dir("corrupt-gzip");
        let mut bytes = std::fs::read(data("digits_head.csv.gz")).unwrap();
        let last = bytes.len() - 6;
        bytes[last] ^= 0xff;
        std::fs::write(dir.join("bad.csv.gz"), &bytes).unwrap();
        let err = CsvData::from_path(dir.join("bad.csv.gz"), &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(&err, Error::Csv { reason, .. } if reason.starts_with("bad gzip data")),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_truncated_gzip_file_is_a_csv_error_and_never_half_read() {
        let dir = temp_dir("truncated-gzip");
        let bytes = std::fs::read(data("digits_head.csv.gz")).unwrap();
        for cut in [2, 10, bytes.len() / 2, bytes.len() - 8, bytes.len() - 1] {
            let path = dir.join(format!("cut{cut}.csv.gz"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let err = CsvData::from_path(&path, &CsvOptions::new()).unwrap_err();
            assert!(
                matches!(&err, Error::Csv { path: p, row: 1, column: 1, reason }
                    if *p == path && reason.starts_with("bad gzip data") && reason.contains("truncated")),
                "{cut}: {err}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn malformed_csv_text_never_panics() {
        let text = std::fs::read(data("iris.csv")).unwrap();
        let meta = CsvOptions::new().with_header(CsvHeader::SklearnMeta);
        assert_never_panics(&text[..300], |b| CsvData::from_reader(b, &meta).is_ok());
    }
}

mod npy {
    use super::*;

    fn npy_reason(result: keras_core::Result<NpyArray>) -> String {
        match result {
            Err(Error::Npy { reason, .. }) => reason,
            other => panic!("expected a .npy error, got {other:?}"),
        }
    }

    #[test]
    fn a_float64_matrix_loads_with_its_shape() {
        let a = load_npy(data("f8_2x3.npy")).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]);
        assert_eq!((a.num_samples(), a.sample_shape()), (2, [3].as_slice()));
    }

    #[test]
    fn format_versions_2_and_3_load() {
        for file in ["v2.npy", "v3.npy"] {
            let a = load_npy(data(file)).unwrap();
            assert_eq!(
                (a.shape.as_slice(), a.data.as_slice()),
                ([2, 2].as_slice(), [1.0, 2.0, 3.0, 4.0].as_slice())
            );
        }
    }

    #[test]
    fn fortran_order_is_rejected_with_a_fix() {
        assert!(npy_reason(load_npy(data("fortran.npy")))
            .contains("fortran_order True is not supported"));
    }

    #[test]
    fn big_endian_data_is_rejected_by_name() {
        let reason = npy_reason(load_npy(data("big_endian.npy")));
        assert!(reason.starts_with("dtype '>f4' is big-endian"), "{reason}");
    }

    #[test]
    fn an_unsupported_dtype_is_named_with_the_supported_list() {
        let reason = npy_reason(load_npy(data("float16.npy")));
        assert_eq!(
            reason,
            "unsupported dtype '<f2'; supported dtypes are <f4, <f8, <i4, <i8, |u1, <u1, |b1"
        );
    }

    #[test]
    fn bad_magic_truncation_and_extra_bytes_are_errors() {
        let good = std::fs::read(data("f8_2x3.npy")).unwrap();
        assert!(npy_reason(NpyArray::from_bytes(b"PK\x03\x04 not numpy")).starts_with("bad magic"));
        assert!(npy_reason(NpyArray::from_bytes(&good[..40]))
            .starts_with("truncated header: declares 118 bytes"));
        let reason = npy_reason(NpyArray::from_bytes(&good[..good.len() - 1]));
        assert_eq!(
            reason,
            "truncated data: shape [2, 3] of <f8 needs 48 bytes but only 47 follow the header"
        );
        let mut long = good.clone();
        long.push(0);
        assert!(npy_reason(NpyArray::from_bytes(&long)).starts_with("shape/data length mismatch"));
    }

    #[test]
    fn an_overflowing_shape_is_an_error_not_a_panic() {
        let header =
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }\n";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        assert!(npy_reason(NpyArray::from_bytes(&bytes)).contains("too large"));
    }

    #[test]
    fn malformed_npy_bytes_never_panic() {
        let good = std::fs::read(data("f8_2x3.npy")).unwrap();
        assert_never_panics(&good, |b| NpyArray::from_bytes(b).is_ok());
    }

    #[test]
    fn load_npy_expect_checks_the_sample_shape() {
        let path = data("f8_2x3.npy");
        assert_eq!(load_npy_expect(&path, &[3]).unwrap().shape, [2, 3]);
        for wrong in [&[2][..], &[], &[3, 1]] {
            let reason = npy_reason(load_npy_expect(&path, wrong));
            assert!(reason.ends_with("found [2, 3]"), "{reason}");
        }
        assert_eq!(
            npy_reason(load_npy_expect(&path, &[2])),
            "expected shape [n, 2], found [2, 3]"
        );
    }

    #[test]
    fn save_npy_round_trips_and_leaves_no_temporary_file() {
        let dir = temp_dir("save-npy");
        let cases: [(&[usize], Vec<f32>); 4] = [
            (
                &[2, 3],
                vec![1.0, -2.5, 3.25, f32::MAX, f32::MIN_POSITIVE, 0.0],
            ),
            (&[], vec![42.0]),
            (&[0, 5], vec![]),
            (&[1, 1, 1, 2], vec![f32::INFINITY, -0.0]),
        ];
        for (i, (shape, values)) in cases.iter().enumerate() {
            let path = dir.join(format!("{i}.npy"));
            save_npy(&path, shape, values).unwrap();
            save_npy(&path, shape, values).unwrap(); // overwriting works too
            let a = load_npy(&path).unwrap();
            assert_eq!(
                (a.shape.as_slice(), a.data.as_slice()),
                (*shape, values.as_slice())
            );
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["0.npy", "1.npy", "2.npy", "3.npy"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn save_npy_reports_a_shape_mismatch_and_io_errors_with_the_path() {
        let dir = temp_dir("save-npy-errors");
        let err = save_npy(dir.join("x.npy"), &[2, 2], &[1.0]).unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { name: "data", .. }),
            "{err:?}"
        );
        let path = dir.join("missing_dir/x.npy");
        match save_npy(&path, &[1], &[1.0]) {
            Err(Error::Io { path: p, .. }) => assert_eq!(p, path),
            other => panic!("{other:?}"),
        }
        match load_npy(dir.join("absent.npy")) {
            Err(Error::Io { path: p, .. }) => assert_eq!(p, dir.join("absent.npy")),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

mod npz {
    use super::*;

    fn npz_reason(result: keras_core::Result<Npz>) -> String {
        match result {
            Err(Error::Npy { reason, .. }) => reason,
            other => panic!("expected an .npz error, got {other:?}"),
        }
    }

    #[test]
    fn np_savez_entries_load_by_name_without_the_npy_suffix() {
        let npz = load_npz(data("mnist_tiny.npz")).unwrap();
        assert_eq!(npz.names().collect::<Vec<_>>(), ["x_train", "y_train"]);
        let x = npz.array("x_train").unwrap();
        assert_eq!(x.shape, [3, 2, 2]);
        assert_eq!(&x.data[..4], [0.0, 255.0, 128.0, 1.0]);
        assert_eq!(npz.get("y_train").unwrap().data, [5.0, 0.0, 4.0]);
    }

    #[test]
    fn every_supported_dtype_converts_to_f32() {
        let npz = load_npz(data("dtypes.npz")).unwrap();
        let names: Vec<&str> = npz.names().collect();
        assert_eq!(
            names,
            ["f4", "f8", "i4", "i8", "u1", "b1", "scalar", "empty"]
        );
        let expected: [(&str, &[usize], &[f32]); 8] = [
            ("f4", &[2], &[1.5, -2.25]),
            ("f8", &[2, 2], &[0.1, 1e10, -3.0, 0.0]),
            ("i4", &[2], &[-7.0, 2147483647.0]),
            ("i8", &[2, 1], &[-1099511627776.0, 3.0]),
            ("u1", &[3], &[0.0, 200.0, 255.0]),
            ("b1", &[3], &[1.0, 0.0, 1.0]),
            ("scalar", &[], &[3.5]),
            ("empty", &[0, 3], &[]),
        ];
        for (name, shape, values) in expected {
            let a = npz.array(name).unwrap();
            assert_eq!(
                (a.shape.as_slice(), a.data.as_slice()),
                (shape, values),
                "{name}"
            );
        }
    }

    #[test]
    fn np_savez_compressed_entries_are_inflated() {
        let mut npz = load_npz(data("compressed.npz")).unwrap();
        let a = npz.take("a").unwrap();
        assert_eq!(a.shape, [10, 100]);
        let expected: Vec<f32> = (0..1000).map(|i| (i as f64 / 7.0) as f32).collect();
        assert_eq!(a.data, expected);
        let labels = npz.take("labels").unwrap();
        assert_eq!(
            labels.data,
            (0..500).map(|i| (i % 10) as f32).collect::<Vec<_>>()
        );
        assert!(npz.is_empty());
    }

    #[test]
    fn a_missing_name_lists_the_names_there_are() {
        let npz = load_npz(data("mnist_tiny.npz")).unwrap();
        let err = npz.array("x_test").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument `name`: no array `x_test` in the archive; it holds: x_train, y_train"
        );
    }

    #[test]
    fn a_corrupt_member_fails_its_crc_check() {
        let mut bytes = std::fs::read(data("mnist_tiny.npz")).unwrap();
        let at = bytes
            .windows(4)
            .position(|w| w == [0, 255, 128, 1])
            .unwrap();
        bytes[at] = 9;
        assert_eq!(
            npz_reason(Npz::from_bytes(&bytes)),
            "entry `x_train.npy`: CRC-32 mismatch: the archive is corrupt"
        );
    }

    #[test]
    fn non_zip_archives_are_rejected_and_non_npy_members_are_listed_but_not_read() {
        let reason = npz_reason(Npz::from_bytes(b"\x93NUMPY this is not a zip file at all"));
        assert!(reason.starts_with("not a zip archive"), "{reason}");
        // NumPy's `np.load` opens such an archive too; reading the member as an array fails.
        let npz = load_npz(data("not_npy.npz")).unwrap();
        assert_eq!(npz.other_members().collect::<Vec<_>>(), ["readme.txt"]);
        let err = npz.array("readme.txt").unwrap_err();
        assert!(err.to_string().contains("not a .npy array"), "{err}");
        let bytes = std::fs::read(data("mnist_tiny.npz")).unwrap();
        assert!(Npz::from_bytes(&bytes[..bytes.len() - 30]).is_err());
    }

    #[test]
    fn a_truncated_npz_file_is_an_npy_error_naming_the_path() {
        let dir = temp_dir("truncated-npz");
        let bytes = std::fs::read(data("compressed.npz")).unwrap();
        for cut in [0, 4, bytes.len() / 2, bytes.len() - 22, bytes.len() - 1] {
            let path = dir.join(format!("cut{cut}.npz"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            match load_npz(&path) {
                Err(Error::Npy { path: p, reason }) => {
                    assert_eq!(p, path);
                    assert!(reason.starts_with("not a zip archive"), "{cut}: {reason}");
                }
                other => panic!("{cut}: expected an .npz error, got {other:?}"),
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_flipped_byte_in_a_deflated_member_is_an_error_naming_the_member() {
        let bytes = std::fs::read(data("compressed.npz")).unwrap();
        // (where the compressed data starts, member name), as the `zip` crate finds them.
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let found: Vec<(usize, String)> = (0..archive.len())
            .map(|i| {
                let member = archive.by_index_raw(i).unwrap();
                (member.data_start() as usize, member.name().to_string())
            })
            .collect();
        let names: Vec<&str> = found.iter().map(|m| m.1.as_str()).collect();
        assert_eq!(names, ["a.npy", "labels.npy"]);
        for (start, name) in found {
            for offset in [5, 40, 100] {
                let mut bad = bytes.clone();
                bad[start + offset] ^= 0x01;
                match Npz::from_bytes(&bad) {
                    Err(Error::Npy { reason, .. }) => assert!(
                        reason.starts_with(&format!("entry `{name}`: "))
                            && (reason.contains("CRC-32 mismatch")
                                || reason.contains("corrupt")
                                || reason.contains("decompressed to")),
                        "{name} +{offset}: {reason}"
                    ),
                    other => panic!("{name} +{offset}: expected an .npz error, got {other:?}"),
                }
            }
        }
    }

    /// A stored zip of `members`; `zip64` moves the sizes, offsets and counts into zip64
    /// fields and records, as writers do for archives past 4 GiB.
    fn stored_zip(members: &[(&str, &[u8])], zip64: bool) -> Vec<u8> {
        const LOCAL: u32 = 0x0403_4b50;
        const CENTRAL: u32 = 0x0201_4b50;
        const EOCD: u32 = 0x0605_4b50;
        const ZIP64_EOCD: u32 = 0x0606_4b50;
        const ZIP64_LOCATOR: u32 = 0x0706_4b50;
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in members {
            let crc = crc32fast::hash(data).to_le_bytes();
            let offset = out.len() as u64;
            out.extend_from_slice(&LOCAL.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            let (size, off) = if zip64 {
                (u32::MAX, u32::MAX)
            } else {
                (data.len() as u32, offset as u32)
            };
            central.extend_from_slice(&CENTRAL.to_le_bytes());
            central.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc);
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&(if zip64 { 28u16 } else { 0 }).to_le_bytes());
            central.extend_from_slice(&[0; 10]);
            central.extend_from_slice(&off.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
            if zip64 {
                central.extend_from_slice(&[1, 0, 24, 0]);
                for v in [data.len() as u64, data.len() as u64, offset] {
                    central.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        let cd_offset = out.len() as u64;
        out.extend_from_slice(&central);
        let (count, off) = if zip64 {
            (u16::MAX, u32::MAX)
        } else {
            (members.len() as u16, cd_offset as u32)
        };
        if zip64 {
            let record = out.len() as u64;
            out.extend_from_slice(&ZIP64_EOCD.to_le_bytes());
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            let n = members.len() as u64;
            for v in [n, n, central.len() as u64, cd_offset] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&ZIP64_LOCATOR.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&record.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
        }
        out.extend_from_slice(&EOCD.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn plain_and_zip64_archives_read_the_same_arrays() {
        let dir = temp_dir("zip64");
        save_npy(dir.join("a.npy"), &[2], &[1.5, -2.0]).unwrap();
        save_npy(dir.join("b.npy"), &[0], &[]).unwrap();
        let a = std::fs::read(dir.join("a.npy")).unwrap();
        let b = std::fs::read(dir.join("b.npy")).unwrap();
        let members: [(&str, &[u8]); 3] = [("a.npy", &a), ("notes.txt", b"hi"), ("b.npy", &b)];
        for zip64 in [false, true] {
            let npz = Npz::from_bytes(&stored_zip(&members, zip64)).unwrap();
            assert_eq!(npz.names().collect::<Vec<_>>(), ["a", "b"], "{zip64}");
            assert_eq!(npz.other_members().collect::<Vec<_>>(), ["notes.txt"]);
            assert_eq!(npz.array("a").unwrap().data, [1.5, -2.0]);
            assert_eq!(npz.array("b").unwrap().shape, [0]);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn members_that_share_bytes_are_rejected() {
        let mut bytes = stored_zip(&[("a.npy", b"xy"), ("b.npy", b"zw")], false);
        let second_offset = bytes.len() - 22 - 4 - 5; // the last central header's offset field
        bytes[second_offset..second_offset + 4].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            npz_reason(Npz::from_bytes(&bytes)),
            "overlapping entries (corrupt archive)"
        );
    }

    #[test]
    fn a_stored_member_whose_sizes_disagree_is_an_error() {
        let mut bytes = stored_zip(&[("a.npy", b"xyzw")], false);
        let size_field = bytes.len() - 22 - (46 + 5) + 24; // the central header's size
        bytes[size_field..size_field + 4].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(
            npz_reason(Npz::from_bytes(&bytes)),
            "entry `a.npy`: decompressed to 4 bytes but the archive declares 3"
        );
    }

    #[test]
    fn malformed_npz_bytes_never_panic() {
        for file in ["mnist_tiny.npz", "compressed.npz"] {
            let bytes = std::fs::read(data(file)).unwrap();
            assert_never_panics(&bytes, |b| Npz::from_bytes(b).is_ok());
        }
    }
}
