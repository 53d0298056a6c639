//! [`ColumnForm`]: a column-sum metric's update in a form both device kernels compute.

/// Which four quantities a column sums.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ColumnSums {
    /// Keras's `FBetaScore`: a prediction is positive above `threshold`, or without one where
    /// it is its row's maximum (and not 0); the sums are `p t`, `p (1 - t)`, `(1 - p) t` and
    /// `t` for the binarised `p`.
    FScore {
        /// The binarising threshold, or `None` for each row's maximum.
        threshold: Option<f32>,
    },
    /// Keras's `R2Score`: `t`, `t²`, `(t - p)²` and the weight; each batch also adds its
    /// `rows × cols` to the sample count after the sums.
    R2,
}

/// The update of a column-sum metric's state: what each column sums, into how many slots
/// (each column its own, or one for all), and where the sums sit in the metric's state.
///
/// # Examples
/// ```
/// use keras_core::kernels::ColumnSums;
/// use keras_core::metrics::{F1Score, FScoreAverage, MetricFn};
/// let mut f1 = F1Score::default().with_average(FScoreAverage::Macro);
/// f1.prepare(3).unwrap();
/// let form = f1.column_form().expect("an F1 score has a device form");
/// assert_eq!(form.sums, ColumnSums::FScore { threshold: None });
/// assert_eq!(form.slots, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ColumnForm {
    /// What each column sums.
    pub sums: ColumnSums,
    /// The slots each sum has: the number of columns, or 1 to sum all columns together.
    pub slots: usize,
    /// Where the first sum starts in the metric's state; the other three follow it, then the
    /// sample count of [`ColumnSums::R2`].
    pub offset: usize,
}

impl ColumnForm {
    /// Whether the form fits a `cols`-wide output: one slot, or one per column.
    pub fn fits(&self, cols: usize) -> bool {
        self.slots == 1 || self.slots == cols
    }

    /// How many values of the state the form adds to, from [`offset`](ColumnForm::offset).
    pub fn len(&self) -> usize {
        4 * self.slots + usize::from(self.sums == ColumnSums::R2)
    }

    /// Whether the form adds to nothing (no slot).
    pub fn is_empty(&self) -> bool {
        self.slots == 0
    }
}
