//! `keras.callbacks.CSVLogger`: one CSV row per epoch.

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
};

use super::{Callback, CallbackContext};
use crate::persist::py_format::repr_f64;
use crate::{Error, Result};

/// Streams epoch results to a CSV file, as Keras: the header is `epoch` followed by the first
/// epoch's log keys in sorted order; each row holds the 0-based epoch and the values written as
/// Python's `repr` of the `f32` widened to `f64` (`0.10000000149011612`), `NA` for a key that an
/// epoch lacks. Rows end in `\r\n` (Python's `csv` default) and are flushed every epoch.
///
/// With `append`, rows are added to an existing file and the header is written only if the
/// file was empty.
///
/// ```no_run
/// use keras_core::callbacks::CSVLogger;
///
/// let logger = CSVLogger::new("run/log.csv").with_separator(b';').with_append(true);
/// # let _ = logger;
/// ```
#[derive(Debug)]
pub struct CSVLogger {
    filename: PathBuf,
    separator: u8,
    append: bool,
    keys: Option<Vec<String>>,
    write_header: bool,
    writer: Option<csv::Writer<File>>,
}

impl CSVLogger {
    /// Logs to `filename` (overwritten at the start of training unless `append`).
    pub fn new(filename: impl AsRef<Path>) -> Self {
        Self {
            filename: filename.as_ref().to_path_buf(),
            separator: b',',
            append: false,
            keys: None,
            write_header: true,
            writer: None,
        }
    }

    /// The field separator. Defaults to `b','`.
    pub fn with_separator(mut self, separator: u8) -> Self {
        self.separator = separator;
        self
    }

    /// Append to an existing file instead of overwriting it. Defaults to `false`.
    pub fn with_append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    /// The file.
    pub fn filename(&self) -> &Path {
        &self.filename
    }

    fn csv_error(&self, e: csv::Error) -> Error {
        match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::io(&self.filename, source),
            other => Error::Csv {
                path: self.filename.clone(),
                row: 0,
                column: 0,
                reason: format!("{other:?}"),
            },
        }
    }
}

impl Callback for CSVLogger {
    /// No batch hook reads the logs.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        let mut options = OpenOptions::new();
        self.write_header = true;
        if self.append {
            if self.filename.exists() {
                let file = File::open(&self.filename).map_err(|e| Error::io(&self.filename, e))?;
                let mut first = String::new();
                BufReader::new(file)
                    .read_line(&mut first)
                    .map_err(|e| Error::io(&self.filename, e))?;
                self.write_header = first.is_empty();
            }
            options.append(true).create(true);
        } else {
            options.write(true).create(true).truncate(true);
        }
        let file = options
            .open(&self.filename)
            .map_err(|e| Error::io(&self.filename, e))?;
        self.writer = Some(
            csv::WriterBuilder::new()
                .delimiter(self.separator)
                .terminator(csv::Terminator::CRLF)
                .from_writer(file),
        );
        self.keys = None;
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        let logs = ctx.logs();
        let keys = self.keys.get_or_insert_with(|| {
            let mut keys: Vec<String> = logs.keys().map(str::to_string).collect();
            keys.sort();
            keys
        });
        let row: Vec<String> = std::iter::once(epoch.to_string())
            .chain(keys.iter().map(|k| match logs.get(k) {
                Some(v) => repr_f64(v as f64),
                None => "NA".to_string(),
            }))
            .collect();
        let header: Option<Vec<String>> = self.write_header.then(|| {
            std::iter::once("epoch".to_string())
                .chain(keys.iter().cloned())
                .collect()
        });
        let Some(writer) = self.writer.as_mut() else {
            return Err(Error::invalid(
                "CSVLogger",
                "on_epoch_end called before on_train_begin",
            ));
        };
        let result = (|| {
            if let Some(h) = &header {
                writer.write_record(h)?;
            }
            writer.write_record(&row)?;
            writer.flush().map_err(csv::Error::from)
        })();
        result.map_err(|e| self.csv_error(e))?;
        self.write_header = false;
        Ok(())
    }

    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        if let Some(mut writer) = self.writer.take() {
            writer.flush().map_err(|e| Error::io(&self.filename, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keras-csv-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn run(logger: &mut CSVLogger, epochs: &[&[(&str, f32)]]) {
        let mut ctx = MockContext::new();
        logger.on_train_begin(&mut ctx).unwrap();
        for (e, logs) in epochs.iter().enumerate() {
            ctx.set_logs(logs);
            logger.on_epoch_end(e, &mut ctx).unwrap();
        }
        logger.on_train_end(&mut ctx).unwrap();
    }

    #[test]
    fn rows_have_sorted_keys_after_the_epoch_column() {
        let path = temp_dir("sorted").join("log.csv");
        let mut logger = CSVLogger::new(&path);
        run(
            &mut logger,
            &[
                &[("loss", 0.5), ("accuracy", 0.25), ("val_loss", 0.75)],
                &[("loss", 0.1), ("accuracy", 1.0)],
            ],
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "epoch,accuracy,loss,val_loss\r\n0,0.25,0.5,0.75\r\n1,1.0,0.10000000149011612,NA\r\n"
        );
    }

    #[test]
    fn appending_keeps_old_rows_and_skips_the_header() {
        let path = temp_dir("append").join("log.csv");
        run(
            &mut CSVLogger::new(&path).with_separator(b';'),
            &[&[("loss", 2.0)]],
        );
        run(
            &mut CSVLogger::new(&path).with_separator(b';').with_append(true),
            &[&[("loss", 1.0)]],
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "epoch;loss\r\n0;2.0\r\n0;1.0\r\n");
    }

    #[test]
    fn an_unopenable_file_is_an_io_error() {
        let dir = temp_dir("unopenable");
        let mut logger = CSVLogger::new(&dir); // a directory, not a file
        let err = logger.on_train_begin(&mut MockContext::new()).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
    }
}
