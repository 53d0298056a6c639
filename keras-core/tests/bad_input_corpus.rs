//! A corpus of wrong inputs across the public API. Each entry must return the exact
//! `keras_core::Error` variant (with the argument name where the variant has one), and must not
//! panic: every entry runs under `catch_unwind`, so a panic is reported as that entry's failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use keras_core::callbacks::{EarlyStopping, Mode, ModelCheckpoint, ReduceLROnPlateau, SaveFreq};
use keras_core::data::loaders::{
    load_npy, load_npy_expect, load_npz, save_npy, CsvData, CsvOptions, NpyArray, Npz,
};
use keras_core::data::{
    split_validation, ArrayAdapter, ArrayDataset, Batch, DataAdapter, EpochIterator, Shuffle,
};
use keras_core::dfdx::prelude::*;
use keras_core::losses::{
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalGeneralizedCrossEntropy, Huber, Reduction, Tversky,
};
use keras_core::metrics::{
    Auc, BinaryAccuracy, FBetaScore, Precision, PrecisionAtRecall, TopKCategoricalAccuracy,
};
use keras_core::optimizers::schedules::{CosineDecay, ExponentialDecay, PiecewiseConstantDecay};
use keras_core::optimizers::{Adam, AdamW, FlatParams, Optimizer, Sgd};
use keras_core::persist::{
    load_optimizer, load_optimizer_for, load_optimizer_state, load_weights, read_state,
    save_checkpoint, save_optimizer, write_state,
};
use keras_core::target::{Dense as DenseTarget, Sparse};
use keras_core::trainer::ValidationFreq;
use keras_core::{Error, Result};

mod common;

use common::tiny::{data, trainer};
use common::TestDevice;

/// A scratch directory for this process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keras-bad-input-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn layout() -> FlatParams {
    let mut p = FlatParams::from_layout([("out.kernel", &[2usize, 3][..]), ("out.bias", &[3][..])]);
    p.values = (0..9).map(|i| i as f32).collect();
    p
}

/// A valid checkpoint of [`layout`], written once per call under `name`.
fn checkpoint(name: &str) -> PathBuf {
    let path = scratch(name).join("ckpt.safetensors");
    save_checkpoint(&path, &layout(), None).unwrap();
    path
}

fn csv(text: &str) -> Result<()> {
    CsvData::from_reader(text.as_bytes(), &CsvOptions::new()).map(drop)
}

/// A valid `.npy` file's bytes, `f32` of shape `[2, 2]`.
fn npy_bytes() -> Vec<u8> {
    let path = scratch("npy").join("a.npy");
    save_npy(&path, &[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap();
    std::fs::read(path).unwrap()
}

/// The error an entry must return.
#[derive(Debug)]
enum Expect {
    Invalid(&'static str),
    Length(&'static str, &'static str),
    Shape(&'static str),
    Empty(&'static str),
    ClassOutOfRange(usize),
    Csv { row: usize, column: usize },
    Npy,
    Checkpoint,
    Io,
    BadTemplate,
    UnknownKey(&'static str),
    NonFinite(&'static str, usize),
    NonFiniteWeights,
}

impl Expect {
    fn matches(&self, err: &Error) -> bool {
        match (self, err) {
            (Expect::Invalid(want), Error::InvalidArgument { name, .. }) => name == want,
            (Expect::Length(l, r), Error::LengthMismatch { left, right, .. }) => {
                left == l && right == r
            }
            (Expect::Shape(want), Error::ShapeMismatch { name, .. }) => name == want,
            (Expect::Empty(want), Error::EmptyData { name, .. }) => name == want,
            (Expect::ClassOutOfRange(k), Error::ClassOutOfRange { num_classes, .. }) => {
                num_classes == k
            }
            (
                Expect::Csv { row, column },
                Error::Csv {
                    row: r, column: c, ..
                },
            ) => (row, column) == (r, c),
            (Expect::Npy, Error::Npy { .. })
            | (Expect::Checkpoint, Error::Checkpoint { .. })
            | (Expect::Io, Error::Io { .. })
            | (Expect::BadTemplate, Error::BadTemplate { .. }) => true,
            (Expect::UnknownKey(want), Error::UnknownMonitorKey { key, .. }) => key == want,
            (Expect::NonFinite(want, at), Error::NonFiniteInput { name, index, .. }) => {
                name == want && index == at
            }
            (Expect::NonFiniteWeights, Error::NonFiniteWeights { .. }) => true,
            _ => false,
        }
    }
}

use Expect::*;

type Case = (&'static str, fn() -> Result<()>, Expect);

fn ok<T>(r: Result<T>) -> Result<()> {
    r.map(drop)
}

fn data_cases() -> Vec<Case> {
    vec![
        (
            "ArrayDataset::new: x and y of different lengths",
            || {
                ok(ArrayDataset::<Rank1<2>, Sparse>::new(
                    vec![0.0; 8],
                    vec![0.0; 3],
                ))
            },
            Length("x", "y"),
        ),
        (
            "ArrayDataset::new: x not a whole number of samples",
            || {
                ok(ArrayDataset::<Rank1<2>, Sparse>::new(
                    vec![0.0; 5],
                    vec![0.0; 2],
                ))
            },
            Shape("x"),
        ),
        (
            "ArrayDataset::new: y not a whole number of labels",
            || {
                ok(ArrayDataset::<Rank1<2>, DenseTarget<2>>::new(
                    vec![0.0; 4],
                    vec![0.0; 3],
                ))
            },
            Shape("y"),
        ),
        (
            "ArrayDataset::new: no sample",
            || ok(ArrayDataset::<Rank1<2>, Sparse>::new(vec![], vec![])),
            Empty("x"),
        ),
        (
            "ArrayDataset::new: negative sparse label",
            || {
                ok(ArrayDataset::<Rank1<2>, Sparse>::new(
                    vec![0.0; 2],
                    vec![-1.0],
                ))
            },
            Invalid("y"),
        ),
        (
            "ArrayDataset::new: fractional sparse label",
            || {
                ok(ArrayDataset::<Rank1<2>, Sparse>::new(
                    vec![0.0; 2],
                    vec![0.5],
                ))
            },
            Invalid("y"),
        ),
        (
            "ArrayDataset::new: NaN sparse label",
            || {
                ok(ArrayDataset::<Rank1<2>, Sparse>::new(
                    vec![0.0; 2],
                    vec![f32::NAN],
                ))
            },
            Invalid("y"),
        ),
        (
            "with_sample_weight: one weight short",
            || ok(data(4).with_sample_weight(vec![1.0; 3])),
            Length("sample_weight", "x"),
        ),
        (
            "with_sample_weight: infinite weight",
            || ok(data(2).with_sample_weight(vec![1.0, f32::INFINITY])),
            Invalid("sample_weight"),
        ),
        (
            "ArrayAdapter::new: batch_size 0",
            || ok(ArrayAdapter::new(data(4), 0)),
            Invalid("batch_size"),
        ),
        (
            "ArrayAdapter::with_class_weight: data already has sample weights",
            || {
                let weighted = data(4).with_sample_weight(vec![1.0; 4])?;
                ok(ArrayAdapter::new(weighted, 2)?.with_class_weight(vec![1.0; 3]))
            },
            Invalid("class_weight"),
        ),
        (
            "ArrayAdapter::with_class_weight: one-hot labels",
            || {
                let d =
                    ArrayDataset::<Rank1<1>, DenseTarget<3>>::new(vec![0.0], vec![1.0, 0.0, 0.0])?;
                ok(ArrayAdapter::new(d, 1)?.with_class_weight(vec![1.0; 3]))
            },
            Invalid("class_weight"),
        ),
        (
            "ArrayAdapter: class_weight without a weight for class 2",
            || {
                let d = data(3);
                let adapter = ArrayAdapter::new(&d, 3)?.with_class_weight(vec![1.0, 1.0])?;
                let mut it = EpochIterator::new(adapter, None, 1)?;
                it.begin_epoch()?;
                while it.next_group()?.is_some() {}
                Ok(())
            },
            Invalid("class_weight"),
        ),
        (
            "split_validation: fraction 0",
            || ok(split_validation(&data(10), 0.0)),
            Invalid("validation_split"),
        ),
        (
            "split_validation: fraction 1",
            || ok(split_validation(&data(10), 1.0)),
            Invalid("validation_split"),
        ),
        (
            "split_validation: fraction NaN",
            || ok(split_validation(&data(10), f64::NAN)),
            Invalid("validation_split"),
        ),
        (
            "split_validation: leaves no training sample",
            || ok(split_validation(&data(1), 0.5)),
            Invalid("validation_split"),
        ),
        (
            "EpochIterator::new: steps_per_epoch 0",
            || {
                ok(EpochIterator::new(
                    ArrayAdapter::new(data(4), 2)?,
                    Some(0),
                    1,
                ))
            },
            Invalid("steps_per_epoch"),
        ),
        (
            "EpochIterator::new: steps_per_execution 0",
            || ok(EpochIterator::new(ArrayAdapter::new(data(4), 2)?, None, 0)),
            Invalid("steps_per_execution"),
        ),
        (
            "ArrayAdapter: shuffling still checks class weights",
            || {
                let d = data(6);
                let mut adapter = ArrayAdapter::new(&d, 4)?
                    .with_shuffle(Shuffle::Full, 3)
                    .with_class_weight(vec![1.0])?;
                adapter.start_pass()?;
                let mut batch = Batch::default();
                while adapter.next_batch(&mut batch)? {}
                Ok(())
            },
            Invalid("class_weight"),
        ),
    ]
}

fn loader_cases() -> Vec<Case> {
    vec![
        (
            "CsvData: a label 7 under a scikit-learn header naming 2 classes",
            || {
                CsvData::from_reader(
                    "2,2,no,yes\n0.5,1,1\n0.25,2,7\n".as_bytes(),
                    &CsvOptions::new()
                        .with_header(keras_core::data::loaders::CsvHeader::SklearnMeta),
                )
                .map(drop)
            },
            Csv { row: 3, column: 3 },
        ),
        (
            "CsvOptions: a NaN feature scale",
            || {
                CsvData::from_reader(
                    "1,2,0\n".as_bytes(),
                    &CsvOptions::new().with_feature_scale(f32::NAN),
                )
                .map(drop)
            },
            Invalid("feature_scale"),
        ),
        (
            "CsvOptions: an infinite feature scale",
            || {
                CsvData::from_reader(
                    "1,2,0\n".as_bytes(),
                    &CsvOptions::new().with_feature_scale(f32::INFINITY),
                )
                .map(drop)
            },
            Invalid("feature_scale"),
        ),
        (
            "CsvData: a non-numeric feature",
            || csv("a,b,label\n1,x,0\n"),
            Csv { row: 2, column: 2 },
        ),
        (
            "CsvData: a non-numeric label with numeric encoding",
            || csv("a,b,label\n1,2,0\n3,4,cat\n"),
            Csv { row: 3, column: 3 },
        ),
        (
            "CsvData: a row with too few fields",
            || csv("a,b,label\n1,2,0\n3,4\n"),
            Csv { row: 3, column: 3 },
        ),
        (
            "CsvData: a header and no data row",
            || csv("a,b,label\n"),
            Empty("csv"),
        ),
        (
            "CsvData: a label column that the file does not have",
            || {
                let options = CsvOptions::new().with_label_column("species");
                ok(CsvData::from_reader("a,b\n1,2\n".as_bytes(), &options))
            },
            Invalid("label_column"),
        ),
        (
            "CsvData::from_path: missing file",
            || {
                let path = scratch("csv-missing").join("nope.csv");
                ok(CsvData::from_path(path, &CsvOptions::new()))
            },
            Io,
        ),
        (
            "NpyArray::from_bytes: bad magic",
            || ok(NpyArray::from_bytes(b"NUMPY\x01\x00garbage")),
            Npy,
        ),
        (
            "NpyArray::from_bytes: truncated data",
            || {
                let bytes = npy_bytes();
                ok(NpyArray::from_bytes(&bytes[..bytes.len() - 3]))
            },
            Npy,
        ),
        (
            "NpyArray::from_bytes: big-endian dtype",
            || ok(NpyArray::from_bytes(&swap(&npy_bytes(), b"<f4", b">f4"))),
            Npy,
        ),
        (
            "NpyArray::from_bytes: fortran order",
            || {
                ok(NpyArray::from_bytes(&swap(
                    &npy_bytes(),
                    b"False",
                    b"True ",
                )))
            },
            Npy,
        ),
        (
            "load_npy: missing file",
            || ok(load_npy(scratch("npy-missing").join("nope.npy"))),
            Io,
        ),
        (
            "load_npy_expect: wrong sample shape",
            || {
                let path = scratch("npy-expect").join("a.npy");
                save_npy(&path, &[2, 2], &[0.0; 4])?;
                ok(load_npy_expect(&path, &[3]))
            },
            Npy,
        ),
        (
            "Npz::from_bytes: not a zip archive",
            || ok(Npz::from_bytes(b"PK\x03\x04 but nothing else")),
            Npy,
        ),
        (
            "Npz::array: a name the archive does not hold",
            || {
                let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mnist_tiny.npz");
                ok(load_npz(path)?.array("x_test"))
            },
            Invalid("name"),
        ),
        (
            "load_npz: missing file",
            || ok(load_npz(scratch("npz-missing").join("nope.npz"))),
            Io,
        ),
    ]
}

/// Replaces the first occurrence of `from` with `to` (same length).
fn swap(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

/// [`data`] with feature `value` at sample `index`.
fn data_with(index: usize, value: f32) -> ArrayDataset<Rank1<2>, Sparse> {
    let clean = data(6);
    let mut x = clean.x().to_vec();
    x[2 * index + 1] = value;
    ArrayDataset::new(x, clean.y().to_vec()).unwrap()
}

fn trainer_cases() -> Vec<Case> {
    vec![
        (
            "fit: a NaN feature",
            || ok(trainer().fit(&data_with(4, f32::NAN)).verbose(0).run()),
            NonFinite("x", 4),
        ),
        (
            "fit: an infinite feature in the validation split",
            || {
                ok(trainer()
                    .fit(&data_with(5, f32::NEG_INFINITY))
                    .validation_split(0.5)
                    .verbose(0)
                    .run())
            },
            NonFinite("x", 5),
        ),
        (
            "fit: a NaN feature in validation_data",
            || {
                let val = data_with(1, f32::NAN);
                ok(trainer()
                    .fit(&data(6))
                    .validation_data(&val)
                    .verbose(0)
                    .run())
            },
            NonFinite("x", 1),
        ),
        (
            "fit: a learning rate whose only update overflows the weights (every loss finite)",
            || {
                let dev = TestDevice::seed_from_u64(1);
                let mut t = keras_core::Trainer::compile(
                    common::tiny::Tiny::<f32, TestDevice>::build(&dev),
                    Sgd::new().with_learning_rate(f32::MAX).build()?,
                    keras_core::losses::SparseCategoricalCrossentropy::default()
                        .with_from_logits(true),
                    (),
                    &dev,
                )?;
                ok(t.fit(&data_with(1, 1e6)).batch_size(6).verbose(0).run())
            },
            NonFiniteWeights,
        ),
        (
            "fit: prefetch(usize::MAX)",
            || {
                ok(trainer()
                    .fit(&data(4))
                    .prefetch(usize::MAX)
                    .verbose(0)
                    .run())
            },
            Invalid("prefetch"),
        ),
        (
            "fit: prefetch(1 << 40)",
            || ok(trainer().fit(&data(4)).prefetch(1 << 40).verbose(0).run()),
            Invalid("prefetch"),
        ),
        (
            "fit: a NaN class weight",
            || {
                ok(trainer()
                    .fit(&data(4))
                    .class_weight(vec![1.0, f32::NAN, 1.0])
                    .verbose(0)
                    .run())
            },
            Invalid("class_weight"),
        ),
        (
            "fit: a negative class weight",
            || {
                ok(trainer()
                    .fit(&data(4))
                    .class_weight(vec![1.0, -1.0, 1.0])
                    .verbose(0)
                    .run())
            },
            Invalid("class_weight"),
        ),
        (
            "fit: batch_size 0",
            || ok(trainer().fit(&data(4)).batch_size(0).verbose(0).run()),
            Invalid("batch_size"),
        ),
        (
            "fit: validation_split 1.5",
            || {
                ok(trainer()
                    .fit(&data(10))
                    .validation_split(1.5)
                    .verbose(0)
                    .run())
            },
            Invalid("validation_split"),
        ),
        (
            "fit: validation_split that leaves no training sample",
            || {
                ok(trainer()
                    .fit(&data(1))
                    .validation_split(0.5)
                    .verbose(0)
                    .run())
            },
            Invalid("validation_split"),
        ),
        (
            "fit: class_weight together with sample_weight",
            || {
                let weighted = data(4).with_sample_weight(vec![1.0; 4])?;
                ok(trainer()
                    .fit(&weighted)
                    .class_weight(vec![1.0; 3])
                    .verbose(0)
                    .run())
            },
            Invalid("class_weight"),
        ),
        (
            "fit: initial_epoch after epochs",
            || {
                ok(trainer()
                    .fit(&data(4))
                    .epochs(2)
                    .initial_epoch(3)
                    .verbose(0)
                    .run())
            },
            Invalid("initial_epoch"),
        ),
        (
            "fit: steps_per_epoch 0",
            || ok(trainer().fit(&data(4)).steps_per_epoch(0).verbose(0).run()),
            Invalid("steps_per_epoch"),
        ),
        (
            "fit: steps_per_execution 0",
            || {
                ok(trainer()
                    .fit(&data(4))
                    .steps_per_execution(0)
                    .verbose(0)
                    .run())
            },
            Invalid("steps_per_execution"),
        ),
        (
            "fit: validation_steps 0",
            || {
                let (mut t, d) = (trainer(), data(4));
                let fit = t.fit(&d).validation_split(0.5);
                ok(fit.validation_steps(0).verbose(0).run())
            },
            Invalid("validation_steps"),
        ),
        (
            "fit: validation_batch_size 0",
            || {
                let (mut t, d) = (trainer(), data(4));
                let fit = t.fit(&d).validation_split(0.5);
                ok(fit.validation_batch_size(0).verbose(0).run())
            },
            Invalid("validation_batch_size"),
        ),
        (
            "fit: validation_freq every 0 epochs",
            || {
                let (mut t, d) = (trainer(), data(4));
                let fit = t.fit(&d).validation_freq(ValidationFreq::Every(0));
                ok(fit.verbose(0).run())
            },
            Invalid("validation_freq"),
        ),
        (
            "fit: verbose 3",
            || ok(trainer().fit(&data(4)).verbose(3).run()),
            Invalid("verbose"),
        ),
        (
            "fit: a class id at the output width",
            || {
                let bad = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 4], vec![1.0, 3.0])?;
                ok(trainer().fit(&bad).verbose(0).run())
            },
            ClassOutOfRange(3),
        ),
        (
            "evaluate: steps 0",
            || ok(trainer().evaluate(&data(4)).steps(0).run()),
            Invalid("steps_per_epoch"),
        ),
        (
            "predict: batch_size 0",
            || ok(trainer().predict(&data(4)).batch_size(0).run()),
            Invalid("batch_size"),
        ),
        (
            "set_weights: wrong number of values",
            || trainer().set_weights(&[0.0; 3]),
            Shape("weights"),
        ),
    ]
}

fn hyper_parameter_cases() -> Vec<Case> {
    vec![
        (
            "BinaryCrossentropy: label_smoothing 1.5",
            || ok(BinaryCrossentropy::default().with_label_smoothing(1.5)),
            Invalid("label_smoothing"),
        ),
        (
            "CategoricalCrossentropy: label_smoothing -0.1",
            || ok(CategoricalCrossentropy::default().with_label_smoothing(-0.1)),
            Invalid("label_smoothing"),
        ),
        (
            "BinaryFocalCrossentropy: gamma -1",
            || ok(BinaryFocalCrossentropy::default().with_gamma(-1.0)),
            Invalid("gamma"),
        ),
        ("Huber: delta -1", || ok(Huber::new(-1.0)), Invalid("delta")),
        (
            "Huber: delta NaN",
            || ok(Huber::new(f32::NAN)),
            Invalid("delta"),
        ),
        (
            "Tversky: beta -0.5",
            || ok(Tversky::new(0.5, -0.5)),
            Invalid("beta"),
        ),
        (
            "CategoricalGeneralizedCrossEntropy: q 1",
            || ok(CategoricalGeneralizedCrossEntropy::new(1.0)),
            Invalid("q"),
        ),
        (
            "Reduction: unknown name",
            || ok(Reduction::from_keras("average")),
            Invalid("reduction"),
        ),
        (
            "BinaryAccuracy: threshold 1",
            || ok(BinaryAccuracy::default().with_threshold(1.0)),
            Invalid("threshold"),
        ),
        (
            "Precision: threshold 1.5",
            || ok(Precision::new().with_thresholds(&[0.2, 1.5])),
            Invalid("thresholds"),
        ),
        (
            "Precision: no threshold",
            || ok(Precision::new().with_thresholds(&[])),
            Invalid("thresholds"),
        ),
        (
            "Precision: top_k 0",
            || ok(Precision::new().with_top_k(0)),
            Invalid("top_k"),
        ),
        (
            "TopKCategoricalAccuracy: k 0",
            || ok(TopKCategoricalAccuracy::<0>::new()),
            Invalid("k"),
        ),
        (
            "AUC: num_thresholds 1",
            || ok(Auc::new().with_num_thresholds(1)),
            Invalid("num_thresholds"),
        ),
        (
            "FBetaScore: beta 0",
            || ok(FBetaScore::new(0.0)),
            Invalid("beta"),
        ),
        (
            "PrecisionAtRecall: recall 1.5",
            || ok(PrecisionAtRecall::new(1.5)),
            Invalid("recall"),
        ),
        (
            "SGD: negative learning rate",
            || ok(Sgd::new().with_learning_rate(-0.1).build()),
            Invalid("learning_rate"),
        ),
        (
            "Adam: NaN learning rate",
            || ok(Adam::new().with_learning_rate(f32::NAN).build()),
            Invalid("learning_rate"),
        ),
        (
            "set_learning_rate: infinite",
            || Sgd::new().build()?.set_learning_rate(f32::INFINITY),
            Invalid("learning_rate"),
        ),
        (
            "Adam: beta_1 1.5",
            || ok(Adam::new().with_beta_1(1.5).build()),
            Invalid("beta_1"),
        ),
        (
            "Adam: beta_2 -0.1",
            || ok(Adam::new().with_beta_2(-0.1).build()),
            Invalid("beta_2"),
        ),
        (
            "Adam: epsilon 0",
            || ok(Adam::new().with_epsilon(0.0).build()),
            Invalid("epsilon"),
        ),
        (
            "clipnorm and clipvalue together",
            || ok(Adam::new().with_clipnorm(1.0).with_clipvalue(0.5).build()),
            Invalid("clipnorm"),
        ),
        (
            "clipvalue negative",
            || ok(Adam::new().with_clipvalue(-1.0).build()),
            Invalid("clipvalue"),
        ),
        (
            "global_clipnorm 0",
            || ok(Sgd::new().with_global_clipnorm(0.0).build()),
            Invalid("global_clipnorm"),
        ),
        (
            "gradient_accumulation_steps 1",
            || ok(Adam::new().with_gradient_accumulation_steps(1).build()),
            Invalid("gradient_accumulation_steps"),
        ),
        (
            "ema_momentum 1.5",
            || ok(Adam::new().with_ema(1.5).build()),
            Invalid("ema_momentum"),
        ),
        (
            "weight_decay negative",
            || ok(Adam::new().with_weight_decay(-0.01).build()),
            Invalid("weight_decay"),
        ),
        (
            "AdamW without weight decay",
            || ok(AdamW::new().without_weight_decay().build()),
            Invalid("weight_decay"),
        ),
        (
            "ExponentialDecay: decay_steps 0",
            || ok(ExponentialDecay::new(0.1, 0, 0.9)),
            Invalid("decay_steps"),
        ),
        (
            "CosineDecay: decay_steps 0",
            || ok(CosineDecay::new(0.1, 0)),
            Invalid("decay_steps"),
        ),
        (
            "PiecewiseConstantDecay: one value too few",
            || ok(PiecewiseConstantDecay::new(vec![10, 20], vec![0.1, 0.01])),
            Invalid("values"),
        ),
        (
            "PiecewiseConstantDecay: boundaries not increasing",
            || {
                ok(PiecewiseConstantDecay::new(
                    vec![20, 10],
                    vec![0.1, 0.01, 0.001],
                ))
            },
            Invalid("boundaries"),
        ),
    ]
}

fn callback_cases() -> Vec<Case> {
    vec![
        (
            "ModelCheckpoint::new: an empty path",
            || ok(ModelCheckpoint::new("")),
            BadTemplate,
        ),
        (
            "ModelCheckpoint::new: a field 99999999999 wide",
            || {
                ok(ModelCheckpoint::new(
                    "ckpt-{epoch:99999999999d}.safetensors",
                ))
            },
            BadTemplate,
        ),
        (
            "ModelCheckpoint::new: a precision of 1000",
            || ok(ModelCheckpoint::new("ckpt-{loss:.1000f}.safetensors")),
            BadTemplate,
        ),
        (
            "ModelCheckpoint::new: an unknown format type",
            || ok(ModelCheckpoint::new("ckpt-{epoch:x}.safetensors")),
            BadTemplate,
        ),
        (
            "ModelCheckpoint: unbalanced brace",
            || ok(ModelCheckpoint::new("ckpt-{epoch.safetensors")),
            BadTemplate,
        ),
        (
            "ModelCheckpoint: empty field",
            || ok(ModelCheckpoint::new("ckpt-{}.safetensors")),
            BadTemplate,
        ),
        (
            "ModelCheckpoint: a field the logs do not hold",
            || {
                let dir = scratch("template-field");
                let cb = ModelCheckpoint::new(dir.join("ckpt-{val_nope:.2f}.safetensors"))?;
                ok(trainer().fit(&data(4)).verbose(0).callbacks((cb,)).run())
            },
            BadTemplate,
        ),
        (
            "ModelCheckpoint: a path under a regular file",
            || {
                let file = scratch("ckpt-under-file").join("plain.txt");
                std::fs::write(&file, b"not a directory").unwrap();
                let cb = ModelCheckpoint::new(file.join("ckpt-{epoch}.safetensors"))?;
                ok(trainer().fit(&data(4)).verbose(0).callbacks((cb,)).run())
            },
            Io,
        ),
        (
            "ModelCheckpoint: save_freq of 0 batches",
            || ok(ModelCheckpoint::new("ckpt.safetensors")?.with_save_freq(SaveFreq::Batches(0))),
            Invalid("save_freq"),
        ),
        (
            "ReduceLROnPlateau: factor 1",
            || ok(ReduceLROnPlateau::new().with_factor(1.0)),
            Invalid("factor"),
        ),
        (
            "ReduceLROnPlateau: factor -0.5",
            || ok(ReduceLROnPlateau::new().with_factor(-0.5)),
            Invalid("factor"),
        ),
        (
            "EarlyStopping: unknown monitor key",
            || {
                let cb = EarlyStopping::new()
                    .with_monitor("val_nope")
                    .with_mode(Mode::Min);
                ok(trainer().fit(&data(4)).verbose(0).callbacks((cb,)).run())
            },
            UnknownKey("val_nope"),
        ),
        (
            "EarlyStopping: a key whose direction cannot be inferred, in Mode::Auto",
            || {
                let cb = EarlyStopping::new().with_monitor("val_nope");
                ok(trainer().fit(&data(4)).verbose(0).callbacks((cb,)).run())
            },
            Invalid("mode"),
        ),
        (
            "ReduceLROnPlateau: unknown monitor key",
            || {
                let cb = ReduceLROnPlateau::new().with_monitor("accuracy_typo");
                ok(trainer().fit(&data(4)).verbose(0).callbacks((cb,)).run())
            },
            UnknownKey("accuracy_typo"),
        ),
    ]
}

/// `path` with byte `at` XOR-ed with `0xFF`.
fn flip(path: &std::path::Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0xFF;
    std::fs::write(path, bytes).unwrap();
}

fn checkpoint_cases() -> Vec<Case> {
    vec![
        (
            "load_weights: one flipped byte in a weight",
            || {
                let path = checkpoint("flipped-weight");
                let len = std::fs::metadata(&path).unwrap().len() as usize;
                flip(&path, len - 3);
                ok(load_weights(&path, &layout()))
            },
            Checkpoint,
        ),
        (
            "read_state: one flipped byte in an optimizer variable",
            || {
                let path = scratch("flipped-state").join("adam.safetensors");
                write_state(&path, &[("velocity".to_string(), vec![1.0, 2.0])])?;
                let len = std::fs::metadata(&path).unwrap().len() as usize;
                flip(&path, len - 1);
                ok(read_state(&path))
            },
            Checkpoint,
        ),
        (
            "load_weights: a checkpoint of another layout",
            || {
                let path = checkpoint("other-layout");
                let other = FlatParams::from_layout([
                    ("out.kernel", &[3usize, 3][..]),
                    ("out.bias", &[3][..]),
                ]);
                ok(load_weights(&path, &other))
            },
            Checkpoint,
        ),
        (
            "load_weights: a checkpoint missing a variable",
            || {
                let path = checkpoint("missing-var");
                let more = FlatParams::from_layout([
                    ("out.kernel", &[2usize, 3][..]),
                    ("out.bias", &[3][..]),
                    ("hidden.bias", &[2][..]),
                ]);
                ok(load_weights(&path, &more))
            },
            Checkpoint,
        ),
        (
            "load_weights: a corrupted file",
            || {
                let path = checkpoint("corrupted");
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[3] ^= 0x5a;
                bytes[9] = b'[';
                std::fs::write(&path, bytes).unwrap();
                ok(load_weights(&path, &layout()))
            },
            Checkpoint,
        ),
        (
            "load_weights: a truncated file",
            || {
                let path = checkpoint("truncated");
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
                ok(load_weights(&path, &layout()))
            },
            Checkpoint,
        ),
        (
            "load_weights: missing file",
            || {
                ok(load_weights(
                    scratch("ckpt-missing").join("nope.safetensors"),
                    &layout(),
                ))
            },
            Io,
        ),
        (
            "load_optimizer_state: not a safetensors file",
            || {
                let path = scratch("opt-garbage").join("ckpt.safetensors");
                std::fs::write(&path, b"\xff\xff\xff\xff\xff\xff\xff\xffjunk").unwrap();
                ok(load_optimizer_state(&path))
            },
            Checkpoint,
        ),
        (
            "read_state: a corrupted file",
            || {
                let path = scratch("state-corrupted").join("state.safetensors");
                write_state(&path, &[("velocity".to_string(), vec![1.0, 2.0])])?;
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
                ok(read_state(&path))
            },
            Checkpoint,
        ),
        (
            "read_state: missing file",
            || {
                ok(read_state(
                    scratch("state-missing").join("nope.safetensors"),
                ))
            },
            Io,
        ),
        (
            "load_optimizer: the state of another optimizer",
            || {
                let path = scratch("state-other").join("state.safetensors");
                let mut adam = Adam::new().build()?;
                let mut p = layout();
                p.grads.iter_mut().for_each(|g| *g = 0.5);
                adam.apply(&mut p)?;
                save_optimizer(&adam, &path)?;
                let mut sgd = Sgd::new().with_momentum(0.9).build()?;
                load_optimizer(&mut sgd, &path)
            },
            Checkpoint,
        ),
        (
            "load_optimizer_for: another model's Adam state",
            || {
                let path = scratch("state-other-model").join("adam.safetensors");
                save_optimizer(&stepped_adam_of_another_model()?, &path)?;
                let mut fresh = Adam::new().build()?;
                load_optimizer_for(&mut fresh, &layout(), &path)
            },
            Checkpoint,
        ),
        (
            "fit after load_optimizer of another model's Sgd state",
            || {
                let path = scratch("fit-other-model").join("sgd.safetensors");
                let mut sgd = Sgd::new().build()?;
                let mut other = FlatParams::from_layout([("other.kernel", &[3usize, 3][..])]);
                sgd.apply(&mut other)?;
                save_optimizer(&sgd, &path)?;
                let mut t = trainer();
                load_optimizer(t.optimizer_mut(), &path)?;
                ok(t.fit(&data(4)).verbose(0).run())
            },
            Shape("optimizer state"),
        ),
    ]
}

/// An Adam that has stepped variables of another shape than [`layout`]'s (`other.kernel`).
fn stepped_adam_of_another_model() -> Result<impl Optimizer> {
    let mut adam = Adam::new().build()?;
    let mut other = FlatParams::from_layout([("other.kernel", &[3usize, 3][..])]);
    adam.apply(&mut other)?;
    Ok(adam)
}

/// Runs one entry; `Some(message naming the entry)` when it fails.
fn check((name, run, expect): &Case) -> Option<String> {
    match catch_unwind(AssertUnwindSafe(run)) {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Some(format!("{name}: panicked: {msg}"))
        }
        Ok(Ok(())) => Some(format!("{name}: returned Ok, expected {expect:?}")),
        Ok(Err(err)) if !expect.matches(&err) => {
            Some(format!("{name}: expected {expect:?}, got {err:?}"))
        }
        Ok(Err(_)) => None,
    }
}

#[test]
fn every_bad_input_returns_its_typed_error_and_none_panics() {
    let cases: Vec<Case> = [
        data_cases(),
        loader_cases(),
        trainer_cases(),
        hyper_parameter_cases(),
        callback_cases(),
        checkpoint_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    let prefix = format!("keras-bad-input-{}-", std::process::id());
    for entry in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_dir_all(entry.path()).ok();
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_harness_names_an_entry_that_panics_returns_ok_or_returns_another_error() {
    let panics: Case = ("a panicking entry", || panic!("boom"), Io);
    assert_eq!(
        check(&panics).as_deref(),
        Some("a panicking entry: panicked: boom")
    );
    let succeeds: Case = ("a lenient entry", || Ok(()), Npy);
    assert_eq!(
        check(&succeeds).as_deref(),
        Some("a lenient entry: returned Ok, expected Npy")
    );
    let other: Case = (
        "a mislabelled entry",
        || Err(Error::invalid("x", "bad")),
        Invalid("y"),
    );
    assert!(check(&other)
        .unwrap()
        .starts_with("a mislabelled entry: expected Invalid(\"y\")"));
    let right: Case = (
        "a right entry",
        || Err(Error::invalid("y", "bad")),
        Invalid("y"),
    );
    assert_eq!(check(&right), None);
}

/// The bits of a file, to show it did not change.
fn contents(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_failed_checkpoint_write_is_an_io_error_and_keeps_the_previous_checkpoint() {
    let dir = scratch("save-fails");
    let path = dir.join("ckpt.safetensors");
    let state = vec![("iterations".to_string(), vec![3.0])];
    save_checkpoint(&path, &layout(), Some(&state)).unwrap();
    let before = contents(&path);
    let mut newer = layout();
    newer.values.iter_mut().for_each(|v| *v += 1.0);

    // The temporary file cannot be created (a directory is in its way).
    let tmp = dir.join("ckpt.safetensors.tmp");
    std::fs::create_dir(&tmp).unwrap();
    let err = save_checkpoint(&path, &newer, Some(&state)).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert_eq!(contents(&path), before);
    std::fs::remove_dir(&tmp).unwrap();

    // The disk is full: the temporary file is /dev/full, so every write fails with ENOSPC.
    if std::path::Path::new("/dev/full").exists() {
        std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
        let err = save_checkpoint(&path, &newer, Some(&state)).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert_eq!(contents(&path), before);
        assert_eq!(load_weights(&path, &layout()).unwrap(), layout().values);
        assert_eq!(load_optimizer_state(&path).unwrap(), state);
        std::fs::remove_file(&tmp).unwrap();
    }

    // The target is a directory: the rename fails, and no temporary file is left behind.
    let err = save_checkpoint(&dir, &newer, None).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(dir.is_dir());
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!dir.with_file_name(format!("{name}.tmp")).exists());

    // The parent is a regular file.
    let err = save_checkpoint(path.join("nested.safetensors"), &newer, None).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert_eq!(contents(&path), before);

    // After all that, a save that can succeed replaces the file.
    save_checkpoint(&path, &newer, None).unwrap();
    assert_eq!(load_weights(&path, &layout()).unwrap(), newer.values);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["ckpt.safetensors"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failed_optimizer_state_write_is_an_io_error_and_keeps_the_previous_state() {
    let dir = scratch("state-fails");
    let path = dir.join("adam.safetensors");
    let old = vec![("velocity".to_string(), vec![1.0, 2.0])];
    let new = vec![("velocity".to_string(), vec![9.0, 9.0])];
    write_state(&path, &old).unwrap();
    let before = contents(&path);

    let tmp = dir.join(".adam.safetensors.tmp");
    std::fs::create_dir(&tmp).unwrap();
    let err = write_state(&path, &new).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert_eq!(contents(&path), before);
    std::fs::remove_dir(&tmp).unwrap();

    if std::path::Path::new("/dev/full").exists() {
        std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
        let err = write_state(&path, &new).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert_eq!(contents(&path), before);
        assert_eq!(read_state(&path).unwrap(), old);
        std::fs::remove_file(&tmp).ok();
    }

    let err = write_state(&dir, &new).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(dir.is_dir());
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!dir.with_file_name(format!(".{name}.tmp")).exists());

    let err = write_state(path.join("nested.safetensors"), &new).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert_eq!(contents(&path), before);

    write_state(&path, &new).unwrap();
    assert_eq!(read_state(&path).unwrap(), new);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["adam.safetensors"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_flipped_byte_of_a_saved_checkpoint_or_optimizer_state_is_rejected() {
    // Not under `scratch`: the corpus test removes those directories when it ends.
    let dir = std::env::temp_dir().join(format!("keras-flip-each-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ckpt.safetensors");
    let state = vec![("iterations".to_string(), vec![3.0])];
    save_checkpoint(&path, &layout(), Some(&state)).unwrap();
    let state_path = dir.join("adam.safetensors");
    write_state(&state_path, &state).unwrap();
    for file in [&path, &state_path] {
        let good = std::fs::read(file).unwrap();
        let mut passed = Vec::new();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0xFF;
            std::fs::write(file, &bad).unwrap();
            let result = if file == &path {
                load_weights(&path, &layout())
                    .map(drop)
                    .and_then(|()| load_optimizer_state(&path).map(drop))
            } else {
                read_state(&state_path).map(drop)
            };
            match result {
                Err(Error::Checkpoint { .. }) => {}
                other => passed.push(format!("byte {at}: {other:?}")),
            }
        }
        std::fs::write(file, &good).unwrap();
        assert!(
            passed.is_empty(),
            "{} of {} flips of {} were not rejected: {passed:?}",
            passed.len(),
            good.len(),
            file.display()
        );
    }
    assert_eq!(load_weights(&path, &layout()).unwrap(), layout().values);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sizes_far_beyond_the_data_train_without_a_panic() {
    // Keras takes a batch larger than the data as one batch, and a steps_per_execution larger
    // than an epoch as one group: both train, and allocate for the data, not for the argument.
    let mut t = trainer();
    let h = t
        .fit(&data(6))
        .batch_size(usize::MAX)
        .steps_per_execution(usize::MAX)
        .epochs(2)
        .verbose(0)
        .run()
        .unwrap();
    assert_eq!(h.get("loss").unwrap().len(), 2);
    let h = t
        .fit(&data(6))
        .batch_size(usize::MAX / 2)
        .validation_split(0.5)
        .validation_batch_size(usize::MAX)
        .verbose(0)
        .run()
        .unwrap();
    assert!(h.get("val_loss").unwrap()[0].is_finite());
}

/// A hidden ReLU layer before the logits: the model of the NaN report (a ReLU that turned a NaN
/// into 0 hid it from the loss while its backward wrote NaN into the kernel's gradient).
#[derive(keras_core::Sequential)]
struct ReluNet<E: Dtype, D: Device<E>> {
    hidden: keras_core::layers::Dense<2, 8, keras_core::layers::ReLU, E, D>,
    out: keras_core::layers::Dense<8, 3, keras_core::layers::Linear, E, D>,
}

fn relu_trainer() -> keras_core::Trainer<
    ReluNet<f32, TestDevice>,
    keras_core::optimizers::KerasOptimizer<Sgd>,
    keras_core::losses::SparseCategoricalCrossentropy,
    (),
    (),
    TestDevice,
> {
    let dev = TestDevice::seed_from_u64(3);
    keras_core::Trainer::compile(
        ReluNet::<f32, TestDevice>::build(&dev),
        Sgd::new().build().unwrap(),
        keras_core::losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap()
}

#[test]
fn a_nan_in_the_data_stops_fit_by_default_or_shows_as_a_nan_loss_that_terminate_on_nan_sees() {
    let nan_data = data_with(4, f32::NAN);
    // By default: a typed error naming the sample, before any step; the model is unchanged.
    let mut t = relu_trainer();
    let before = t.weights().values.clone();
    let err = t.fit(&nan_data).verbose(0).run().unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFiniteInput {
                name: "x",
                index: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(t.weights().values, before);

    // Keras's behaviour on request: the NaN reaches the loss, the logged loss is NaN and
    // TerminateOnNaN stops the run after that batch; whether the loss is computed on the host
    // or on the device (read back after the step, as on `Cuda`).
    for (raise_error, loss_on_device) in
        [(false, false), (true, false), (false, true), (true, true)]
    {
        let mut t = relu_trainer();
        t.set_loss_on_device(loss_on_device);
        let mut seen = Vec::new();
        let result = t
            .fit(&nan_data)
            .check_finite(false)
            .batch_size(2)
            .epochs(3)
            .shuffle(Shuffle::None)
            .verbose(0)
            .callbacks((
                keras_core::callbacks::LambdaCallback::new().with_on_train_batch_end(
                    |b, logs: &keras_core::callbacks::Logs| {
                        seen.push((b, logs.get("loss").unwrap()))
                    },
                ),
                keras_core::callbacks::TerminateOnNaN::new().with_raise_error(raise_error),
            ))
            .run();
        // Batches 0 and 1 are clean; batch 2 holds sample 4.
        assert!(seen[0].1.is_finite() && seen[1].1.is_finite(), "{seen:?}");
        assert_eq!(
            seen.len(),
            3,
            "TerminateOnNaN did not stop at the NaN batch: {seen:?}"
        );
        assert!(seen[2].1.is_nan(), "{seen:?}");
        match result {
            Err(Error::NonFiniteLoss { batch: 2, .. }) => assert!(raise_error),
            Ok(history) => {
                assert!(!raise_error);
                // Weights that went non-finite are never silent: the history says so.
                let weights_finite = t.weights().values.iter().all(|w| w.is_finite());
                let losses = history.get("loss").unwrap();
                assert!(weights_finite || losses.iter().any(|l| !l.is_finite()));
                assert!(losses[0].is_nan(), "{losses:?}");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
}

#[test]
fn with_skip_non_finite_a_nan_batch_leaves_the_model_as_it_was_and_is_counted() {
    let nan_data = data_with(4, f32::NAN);
    let mut t = relu_trainer();
    let history = t
        .fit(&nan_data)
        .check_finite(false)
        .skip_non_finite(true)
        .batch_size(2)
        .epochs(2)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    // One NaN batch an epoch: skipped twice, the logged loss still says so, the weights are
    // finite and trained by the clean batches.
    assert_eq!(t.skipped_steps(), 2);
    assert!(history.get("loss").unwrap().iter().all(|l| l.is_nan()));
    assert!(t.weights().values.iter().all(|w| w.is_finite()));
    assert_eq!(t.optimizer().iterations(), 4);
    assert_ne!(t.weights().values, relu_trainer().weights().values);
}
