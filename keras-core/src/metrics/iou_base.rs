//! Keras's `_IoUBase`: what [`IoU`](super::IoU), [`MeanIoU`](super::MeanIoU),
//! [`OneHotIoU`](super::OneHotIoU) and [`OneHotMeanIoU`](super::OneHotMeanIoU) share.

/// Defines an IoU metric over `C` classes on an [`IouMatrix`](super::iou_matrix::IouMatrix):
/// the struct, its private constructor `from_targets`, the `with_ignore_class` /
/// `with_sparse_y_pred` setters and [`MetricFn`](super::MetricFn).
///
/// `sparse_y_true` says whether labels are class ids (else one-hot rows, arg-maxed); it is also
/// the default of `sparse_y_pred`. Each metric's file implements [`Metric<K>`](super::Metric)
/// (its label layout and the build-time check of `K` and `C`) outside the macro, so that a
/// failing check is reported at that one line.
macro_rules! iou_metric {
    (
        $(#[$doc:meta])*
        $name:ident, $log:literal,
        sparse_y_true: $sparse_y_true:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<const C: usize> {
            target_class_ids: Vec<usize>,
            ignore_class: Option<i64>,
            sparse_y_pred: bool,
            matrix: $crate::metrics::iou_matrix::IouMatrix,
        }

        impl<const C: usize> $name<C> {
            /// The metric over `C` classes (`C == 0` is an error), averaged over `targets` (checked
            /// against `C`), or over every class when `None`.
            fn from_targets(targets: Option<&[usize]>) -> $crate::Result<Self> {
                $crate::metrics::iou_matrix::check_classes(C)?;
                let target_class_ids = match targets {
                    Some(ids) => {
                        $crate::metrics::iou_matrix::check_targets(ids, C)?;
                        ids.to_vec()
                    }
                    None => (0..C).collect(),
                };
                Ok(Self {
                    target_class_ids,
                    ignore_class: None,
                    sparse_y_pred: $sparse_y_true,
                    matrix: $crate::metrics::iou_matrix::IouMatrix::new(C),
                })
            }

            /// A label id whose entries are skipped (e.g. a "void" class). Defaults to `None`.
            pub fn with_ignore_class(mut self, ignore_class: Option<i64>) -> Self {
                self.ignore_class = ignore_class;
                self
            }

            #[doc = concat!(
                "Whether `y_pred` holds class ids instead of one score per class (arg-maxed). ",
                "Defaults to `", stringify!($sparse_y_true), "`."
            )]
            pub fn with_sparse_y_pred(mut self, sparse_y_pred: bool) -> Self {
                self.sparse_y_pred = sparse_y_pred;
                self
            }
        }

        impl<const C: usize> $crate::metrics::MetricFn for $name<C> {
            fn name(&self) -> &str {
                $log
            }

            /// Keras's arguments of this class (the mean IoUs take no `target_class_ids`, the
            /// one-hot ones no `sparse_y_true`).
            fn keras_config(&self) -> Option<serde_json::Value> {
                let class = stringify!($name);
                let mut args = serde_json::json!({
                    "num_classes": C,
                    "ignore_class": self.ignore_class,
                    "sparse_y_pred": self.sparse_y_pred,
                    "axis": -1,
                });
                if !class.contains("Mean") {
                    args["target_class_ids"] = self.target_class_ids.clone().into();
                }
                if !class.starts_with("OneHot") {
                    args["sparse_y_true"] = $sparse_y_true.into();
                }
                Some($crate::metrics::keras_config::object_with_dtype(class, $log, "int32", args))
            }

            fn direction(&self) -> $crate::metrics::Direction {
                $crate::metrics::Direction::Up
            }

            fn update_state(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                sample_weight: Option<&[f32]>,
            ) -> $crate::Result<()> {
                let layout = $crate::metrics::iou_matrix::IouLayout {
                    sparse_y_true: $sparse_y_true,
                    sparse_y_pred: self.sparse_y_pred,
                    ignore_class: self.ignore_class,
                };
                self.matrix
                    .update(y_true, y_pred, cols, sample_weight, layout)
            }

            fn result(&self) -> f32 {
                self.matrix.result(&self.target_class_ids)
            }

            fn reset_state(&mut self) {
                self.matrix.reset();
            }

            fn state_values(&self) -> Option<Vec<f32>> {
                Some(self.matrix.state_values())
            }

            fn load_state_values(&mut self, values: &[f32]) -> $crate::Result<()> {
                let name = self.name().to_string();
                self.matrix.load_state_values(values, &name)
            }

            fn merge_state(&mut self, other: &Self) -> $crate::Result<()> {
                self.matrix.merge(&other.matrix)
            }

            fn iou_form(&self) -> Option<$crate::metrics::IouForm> {
                use $crate::kernels::ClassIds;
                let ids = |sparse: bool| if sparse { ClassIds::Values } else { ClassIds::ArgMax };
                self.matrix
                    .form(ids($sparse_y_true), ids(self.sparse_y_pred), self.ignore_class)
            }
        }
    };
}

pub(crate) use iou_metric;
