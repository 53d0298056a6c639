//! SVG plots of a [`History`] (plotters, SVG backend).

use std::path::Path;

use plotters::prelude::*;

use crate::state::History;
use crate::{Error, Result};

impl History {
    /// Draws the history as an SVG file: one panel per training key (`loss`, then each metric,
    /// in log order), its values per epoch as a solid line and the matching `val_` key, when
    /// logged, as a dashed line. See [`plot_history_svg`].
    pub fn plot_svg(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        plot_history_svg(self, path.as_ref())
    }
}

const PANEL_HEIGHT: u32 = 300;
const WIDTH: u32 = 640;

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}

/// Writes `history` as an SVG: one panel per training key (keys without a `val_` prefix, in log
/// order), x = epoch (1-based, as Keras prints it), the training values solid and the `val_`
/// values dashed in the same colour. Non-finite values are left out. An empty history gives an
/// SVG with a single "no epochs" caption.
pub fn plot_history_svg(history: &History, path: &Path) -> Result<()> {
    let keys: Vec<&String> = history
        .keys
        .iter()
        .filter(|k| !k.starts_with("val_"))
        .collect();
    let panels = keys.len().max(1) as u32;
    let root = SVGBackend::new(path, (WIDTH, PANEL_HEIGHT * panels)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    if keys.is_empty() {
        root.titled("no epochs", ("sans-serif", 20))
            .map_err(|e| plot_error(path, e))?;
        return root.present().map_err(|e| plot_error(path, e));
    }
    let areas = root.split_evenly((keys.len(), 1));
    for (i, (key, area)) in keys.iter().zip(areas.iter()).enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let series = |k: &str| -> Vec<(f64, f64)> {
            let values = history.get(k).unwrap_or(&[]);
            let epochs = history.epochs.iter().rev().take(values.len()).rev();
            epochs
                .zip(values)
                .filter(|(_, v)| v.is_finite())
                .map(|(&e, &v)| (e as f64 + 1.0, v as f64))
                .collect()
        };
        let train = series(key);
        let val_key = format!("val_{key}");
        let val = series(&val_key);
        let all = train.iter().chain(&val);
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in all {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (1.0, 2.0, 0.0, 1.0);
        }
        if x1 - x0 < 1.0 {
            x1 = x0 + 1.0;
        }
        let pad = ((y1 - y0) * 0.05).max(1e-6);
        let mut chart = ChartBuilder::on(area)
            .caption(key.as_str(), ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(|e| plot_error(path, e))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .draw()
            .map_err(|e| plot_error(path, e))?;
        chart
            .draw_series(LineSeries::new(train, color.stroke_width(2)))
            .map_err(|e| plot_error(path, e))?
            .label(key.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        if !val.is_empty() {
            chart
                .draw_series(DashedLineSeries::new(val, 6, 4, color.stroke_width(2)))
                .map_err(|e| plot_error(path, e))?
                .label(val_key)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 8, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_error(path, e))?;
    }
    root.present().map_err(|e| plot_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_training_key_gets_a_panel_with_its_validation_curve() {
        let mut h = History::default();
        for e in 0..4 {
            h.epochs.push(e);
        }
        for (k, vals) in [
            ("loss", [1.0, 0.5, 0.25, 0.2]),
            ("accuracy", [0.1, 0.4, 0.6, 0.7]),
            ("val_loss", [1.2, 0.7, 0.5, 0.45]),
        ] {
            h.keys.push(k.to_string());
            h.history.insert(k.to_string(), vals.to_vec());
        }
        let path = std::env::temp_dir().join(format!("keras-history-{}.svg", std::process::id()));
        h.plot_svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for caption in ["loss", "accuracy", "val_loss"] {
            assert!(
                svg.contains(&format!(">\n{caption}\n</text>")),
                "no `{caption}` text"
            );
        }
        // Two panels, 640 x 300 each.
        assert!(svg.contains("height=\"600\""));
        // The loss panel's colour: one solid training line, then many short dashes for
        // `val_loss`; the accuracy panel has no validation curve.
        let loss_color = Palette99::pick(0).to_rgba();
        let stroke = format!(
            "stroke=\"#{:02X}{:02X}{:02X}\" stroke-width=\"2\"",
            loss_color.0, loss_color.1, loss_color.2
        );
        assert!(
            svg.matches(stroke.as_str()).count() > 10,
            "val_loss is not dashed"
        );
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn an_empty_history_still_writes_an_svg() {
        let path =
            std::env::temp_dir().join(format!("keras-history-empty-{}.svg", std::process::id()));
        History::default().plot_svg(&path).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("no epochs"));
        std::fs::remove_file(&path).ok();
    }
}
