//! Bad input to the data adapters and the trainer: each is a typed error that names the
//! argument, and nothing panics.

use keras_core::data::ArrayDataset;
use keras_core::dfdx::prelude::*;
use keras_core::optimizers::Optimizer;
use keras_core::target::Sparse;
use keras_core::Error;

mod common;

use common::tiny::{data, trainer};

#[test]
fn x_and_y_of_different_lengths_are_a_length_mismatch() {
    let err = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 8], vec![0.0; 3]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                left: "x",
                left_len: 4,
                right: "y",
                right_len: 3
            }
        ),
        "{err}"
    );
}

#[test]
fn x_that_is_not_a_whole_number_of_samples_is_a_shape_mismatch() {
    let err = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 5], vec![0.0; 2]).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { name: "x", .. }),
        "{err}"
    );
}

#[test]
fn empty_data_is_rejected() {
    let err = ArrayDataset::<Rank1<2>, Sparse>::new(vec![], vec![]).unwrap_err();
    assert!(matches!(err, Error::EmptyData { name: "x", .. }), "{err}");
}

#[test]
fn a_negative_or_fractional_sparse_label_is_rejected() {
    for bad in [-1.0, 0.5, f32::NAN] {
        let err = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 2], vec![bad]).unwrap_err();
        assert_invalid_argument(&err, "y");
    }
}

#[test]
fn a_sample_weight_per_sample_is_required() {
    let err = data(4).with_sample_weight(vec![1.0; 3]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                left: "sample_weight",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn batch_size_zero_is_rejected_before_training() {
    let mut t = trainer();
    let err = t.fit(&data(4)).batch_size(0).verbose(0).run().unwrap_err();
    assert_invalid_argument(&err, "batch_size");
    assert_eq!(t.optimizer().iterations(), 0);
}

#[test]
fn validation_split_outside_zero_one_is_rejected() {
    for split in [1.0, 1.5, -0.1, f64::NAN] {
        let mut t = trainer();
        let err = t
            .fit(&data(10))
            .validation_split(split)
            .verbose(0)
            .run()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    name: "validation_split",
                    ..
                }
            ),
            "{split}: {err}"
        );
    }
}

#[test]
fn a_validation_split_that_leaves_no_training_sample_is_rejected() {
    let mut t = trainer();
    let err = t
        .fit(&data(1))
        .validation_split(0.5)
        .verbose(0)
        .run()
        .unwrap_err();
    assert_invalid_argument(&err, "validation_split");
}

#[test]
fn class_weight_together_with_sample_weight_is_rejected() {
    let weighted = data(4).with_sample_weight(vec![1.0; 4]).unwrap();
    let mut t = trainer();
    let err = t
        .fit(&weighted)
        .class_weight(vec![1.0; 3])
        .verbose(0)
        .run()
        .unwrap_err();
    assert_invalid_argument(&err, "class_weight");
}

#[test]
fn a_class_weight_missing_a_class_is_rejected() {
    let mut t = trainer();
    let err = t
        .fit(&data(6))
        .class_weight(vec![1.0, 2.0])
        .verbose(0)
        .run()
        .unwrap_err();
    assert_invalid_argument(&err, "class_weight");
}

#[test]
fn a_class_id_at_or_above_the_output_width_is_class_out_of_range() {
    let bad = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 4], vec![1.0, 3.0]).unwrap();
    let mut t = trainer();
    let err = t.fit(&bad).verbose(0).run().unwrap_err();
    assert!(
        matches!(err, Error::ClassOutOfRange { num_classes: 3, .. }),
        "{err}"
    );
    let err = t.evaluate(&bad).run().unwrap_err();
    assert!(matches!(err, Error::ClassOutOfRange { .. }), "{err}");
}

#[test]
fn an_initial_epoch_after_the_last_is_rejected() {
    let mut t = trainer();
    let err = t
        .fit(&data(4))
        .epochs(2)
        .initial_epoch(3)
        .verbose(0)
        .run()
        .unwrap_err();
    assert_invalid_argument(&err, "initial_epoch");
}

#[test]
fn zero_steps_per_epoch_and_zero_validation_steps_are_rejected() {
    let mut t = trainer();
    let err = t
        .fit(&data(4))
        .steps_per_epoch(0)
        .verbose(0)
        .run()
        .unwrap_err();
    assert_invalid_argument(&err, "steps_per_epoch");
    let err = t
        .fit(&data(4))
        .validation_split(0.5)
        .validation_steps(0)
        .verbose(0)
        .run()
        .unwrap_err();
    assert_invalid_argument(&err, "validation_steps");
}

#[test]
fn evaluate_and_predict_reject_batch_size_zero() {
    let mut t = trainer();
    let err = t.evaluate(&data(4)).batch_size(0).run().unwrap_err();
    assert_invalid_argument(&err, "batch_size");
    let err = t.predict(&data(4)).batch_size(0).run().unwrap_err();
    assert_invalid_argument(&err, "batch_size");
}

#[test]
fn set_weights_of_the_wrong_length_is_a_shape_mismatch_and_changes_nothing() {
    let mut t = trainer();
    let before = t.weights().values.clone();
    let err = t.set_weights(&[0.0; 3]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                name: "weights",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(t.weights().values, before);
}

#[test]
fn errors_name_the_argument_and_the_fix() {
    let err = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 8], vec![0.0; 3]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`x` has 4 samples") && text.contains("`y` has 3"),
        "{text}"
    );
}

/// Asserts that `err` is [`Error::InvalidArgument`] naming the argument `name`.
#[track_caller]
fn assert_invalid_argument(err: &Error, name: &str) {
    assert!(
        matches!(err, Error::InvalidArgument { name: n, .. } if *n == name),
        "expected InvalidArgument for `{name}`, got: {err}"
    );
}

/// Forward calls left before [`FailingForward`] reports the device out of memory.
static FORWARDS_LEFT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A layer that passes its input through until [`FORWARDS_LEFT`] runs out, then fails as a
/// device that cannot allocate the activations (the error each device reports).
#[derive(Debug, Default, Clone, Copy)]
struct FailingForward;

/// The out-of-memory error of a device.
trait OutOfMemory: HasErr {
    fn out_of_memory() -> Self::Err;
}

impl OutOfMemory for Cpu {
    fn out_of_memory() -> CpuError {
        CpuError::OutOfMemory
    }
}

#[cfg(feature = "cuda")]
impl OutOfMemory for Cuda {
    fn out_of_memory() -> CudaError {
        CudaError::Cpu(CpuError::OutOfMemory)
    }
}

impl keras_core::dfdx::nn::NonMutableModule for FailingForward {}

impl<E: Dtype, D: Device<E>> keras_core::dfdx::nn::BuildOnDevice<D, E> for FailingForward {
    type Built = FailingForward;
}

impl<E: Dtype, D: Device<E>> keras_core::dfdx::nn::tensor_collection::TensorCollection<E, D>
    for FailingForward
{
    type To<E2: Dtype, D2: Device<E2>> = FailingForward;

    fn iter_tensors<V: keras_core::dfdx::nn::tensor_collection::ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields((), |_| FailingForward)
    }
}

impl<E: Dtype, D: Device<E> + OutOfMemory, T: Tape<E, D>> Module<Tensor<(usize, Const<2>), E, D, T>>
    for FailingForward
{
    type Output = Tensor<(usize, Const<2>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(usize, Const<2>), E, D, T>) -> Result<Self::Output, D::Err> {
        use std::sync::atomic::Ordering;
        match FORWARDS_LEFT.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => Ok(x),
            Err(_) => Err(D::out_of_memory()),
        }
    }
}

#[derive(keras_core::Sequential)]
struct RunsOutOfMemory<E: Dtype, D: Device<E>> {
    fail: FailingForward,
    out: keras_core::layers::Dense<2, 3, keras_core::layers::Linear, E, D>,
}

#[test]
fn a_device_out_of_memory_is_a_typed_error_and_leaves_model_and_optimizer_as_they_were() {
    use keras_core::losses::SparseCategoricalCrossentropy;
    use keras_core::optimizers::Adam;
    use keras_core::Trainer;
    use std::sync::atomic::Ordering;

    let dev = common::test_device(3);
    let mut t = Trainer::compile(
        RunsOutOfMemory::<f32, common::TestDevice>::build(&dev),
        Adam::new().build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap();
    FORWARDS_LEFT.store(3, Ordering::SeqCst);
    t.fit(&data(6)).batch_size(2).verbose(0).run().unwrap();
    let (weights, state) = (t.weights().values.clone(), t.optimizer().state());
    assert_eq!(t.optimizer().iterations(), 3);

    // The next step's forward pass cannot allocate: a typed error naming it.
    let err = t.fit(&data(6)).batch_size(2).verbose(0).run().unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutOfMemory {
                what: "the forward pass",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ran out of memory"), "{err}");
    assert_eq!(
        t.weights().values,
        weights,
        "the model is as before the step"
    );
    assert_eq!(t.optimizer().state(), state, "so is the optimizer");
    assert_eq!(t.optimizer().iterations(), 3);

    // Once memory is back, training goes on from there.
    FORWARDS_LEFT.store(3, Ordering::SeqCst);
    t.fit(&data(6)).batch_size(2).verbose(0).run().unwrap();
    assert_eq!(t.optimizer().iterations(), 6);
}
