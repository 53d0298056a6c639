//! A [`Dataset`] over memory-mapped `.npy` files: features and labels stay on disk and are read
//! a sample at a time, so `fit`, `evaluate` and `predict` run on data larger than memory, with
//! shuffling and prefetch as for arrays.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::loaders::MappedNpy;
use super::{Dataset, SampleShape};
use crate::{target::Target, Error, Result};

/// Features (`[n, S...]`) and labels (`[n]` or `[n, 1]` class ids for sparse labels, `[n,
/// WIDTH]` otherwise) in two `.npy` files, mapped into memory ([`MappedNpy`]). Any dtype the
/// `.npy` loader reads; values are converted to `f32` as the batches are assembled.
///
/// # Examples
/// ```
/// use keras_core::data::{loaders::save_npy, Dataset, NpyDataset};
/// use keras_core::dfdx::shapes::Rank1;
/// use keras_core::target::Sparse;
///
/// let dir = std::env::temp_dir();
/// let (x, y) = (dir.join("keras-npyds-doc-x.npy"), dir.join("keras-npyds-doc-y.npy"));
/// save_npy(&x, &[3, 2], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])?;
/// save_npy(&y, &[3], &[0.0, 1.0, 0.0])?;
/// let data = NpyDataset::<Rank1<2>, Sparse>::open(&x, &y)?;
/// assert_eq!(data.len(), 3);
/// let (mut xs, mut ys) = (Vec::new(), Vec::new());
/// data.append_sample(2, &mut xs, &mut ys)?;
/// assert_eq!((xs, ys), (vec![4.0, 5.0], vec![0.0]));
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug)]
pub struct NpyDataset<S: SampleShape, T: Target> {
    x: MappedNpy,
    y: MappedNpy,
    reads: AtomicUsize,
    _layout: PhantomData<fn() -> (S, T)>,
}

impl<S: SampleShape, T: Target> NpyDataset<S, T> {
    /// How often (in samples read) the files are checked for changes under the mapping (see
    /// [`MappedNpy::check_unchanged`]); the first sample read is checked too.
    pub const CHECK_EVERY: usize = 256;

    /// Maps the features at `x` and the labels at `y` and checks their shapes against `S` and
    /// `T`. Errors: [`Error::Io`] / [`Error::Npy`] from [`MappedNpy::open`];
    /// [`Error::ShapeMismatch`] when a feature sample is not `S` or a label is not `T`'s
    /// width; [`Error::LengthMismatch`] when the files hold different numbers of samples;
    /// [`Error::EmptyData`] when they hold none.
    pub fn open(x: impl AsRef<Path>, y: impl AsRef<Path>) -> Result<Self> {
        let x = MappedNpy::open(x)?;
        let y = MappedNpy::open(y)?;
        if x.sample_len() != S::NUMEL {
            return Err(Error::ShapeMismatch {
                name: "x",
                expected: format!("samples of {} values", S::NUMEL),
                got: format!("shape {:?} in {}", x.shape(), x.path().display()),
            });
        }
        if y.sample_len() != T::WIDTH {
            return Err(Error::ShapeMismatch {
                name: "y",
                expected: format!("labels of {} values", T::WIDTH),
                got: format!("shape {:?} in {}", y.shape(), y.path().display()),
            });
        }
        if x.num_samples() != y.num_samples() {
            return Err(Error::LengthMismatch {
                left: "x",
                left_len: x.num_samples(),
                right: "y",
                right_len: y.num_samples(),
            });
        }
        if x.num_samples() == 0 {
            return Err(Error::EmptyData {
                name: "x",
                reason: format!("{} holds no sample", x.path().display()),
            });
        }
        Ok(Self {
            x,
            y,
            reads: AtomicUsize::new(0),
            _layout: PhantomData,
        })
    }

    /// The mapped features.
    pub fn features(&self) -> &MappedNpy {
        &self.x
    }

    /// The mapped labels.
    pub fn labels(&self) -> &MappedNpy {
        &self.y
    }
}

impl<S: SampleShape, T: Target> Dataset<S, T> for NpyDataset<S, T> {
    fn len(&self) -> usize {
        self.x.num_samples()
    }

    fn append_sample(&self, index: usize, x: &mut Vec<f32>, y: &mut Vec<f32>) -> Result<()> {
        if self
            .reads
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(Self::CHECK_EVERY)
        {
            self.x.check_unchanged()?;
            self.y.check_unchanged()?;
        }
        self.x.append_sample(index, x)?;
        self.y.append_sample(index, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::loaders::save_npy;
    use crate::data::ArrayDataset;
    use crate::target::{Dense, Sparse};
    use dfdx::shapes::Rank1;

    fn paths(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir();
        let id = std::process::id();
        (
            dir.join(format!("keras-npyds-{name}-x-{id}.npy")),
            dir.join(format!("keras-npyds-{name}-y-{id}.npy")),
        )
    }

    #[test]
    fn every_sample_equals_the_in_memory_dataset() {
        let (xp, yp) = paths("same");
        let x: Vec<f32> = (0..30).map(|i| i as f32).collect();
        let y: Vec<f32> = (0..10).map(|i| (i % 3) as f32).collect();
        save_npy(&xp, &[10, 3], &x).unwrap();
        save_npy(&yp, &[10, 1], &y).unwrap();
        let mapped = NpyDataset::<Rank1<3>, Sparse>::open(&xp, &yp).unwrap();
        let memory = ArrayDataset::<Rank1<3>, Sparse>::new(x, y).unwrap();
        assert_eq!(Dataset::len(&mapped), 10);
        for i in 0..10 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let (mut c, mut d) = (Vec::new(), Vec::new());
            mapped.append_sample(i, &mut a, &mut b).unwrap();
            memory.append_sample(i, &mut c, &mut d).unwrap();
            assert_eq!((a, b), (c, d));
        }
        for p in [xp, yp] {
            std::fs::remove_file(p).unwrap();
        }
    }

    #[test]
    fn shapes_that_disagree_with_the_types_are_typed_errors() {
        let (xp, yp) = paths("shapes");
        save_npy(&xp, &[4, 3], &[0.0; 12]).unwrap();
        save_npy(&yp, &[5, 2], &[0.0; 10]).unwrap();
        let wrong_x = NpyDataset::<Rank1<2>, Dense<2>>::open(&xp, &yp);
        assert!(matches!(
            wrong_x,
            Err(Error::ShapeMismatch { name: "x", .. })
        ));
        let wrong_y = NpyDataset::<Rank1<3>, Sparse>::open(&xp, &yp);
        assert!(matches!(
            wrong_y,
            Err(Error::ShapeMismatch { name: "y", .. })
        ));
        let lengths = NpyDataset::<Rank1<3>, Dense<2>>::open(&xp, &yp);
        assert!(matches!(lengths, Err(Error::LengthMismatch { .. })));
        for p in [xp, yp] {
            std::fs::remove_file(p).unwrap();
        }
    }
}
