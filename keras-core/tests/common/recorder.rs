//! [`Recorder`]: a callback that keeps the running logs after each batch and a resume point
//! after the second batch of each epoch, to compare where metric states are kept.

use keras_core::callbacks::{Callback, CallbackContext};
use keras_core::trainer::ResumePoint;
use keras_core::Result;

/// Records the running logs after each batch (when it says it reads them) and the resume point
/// after the second batch of each epoch.
pub struct Recorder {
    /// Whether it says it reads batch logs (so the trainer reads the states after each batch).
    pub batch_logs: bool,
    /// The logs after each batch, when it reads them.
    pub per_batch: Vec<Vec<(String, f32)>>,
    /// The resume point after the second batch of each epoch.
    pub points: Vec<ResumePoint>,
}

impl Recorder {
    /// A recorder that reads batch logs or not.
    pub fn new(batch_logs: bool) -> Self {
        Self {
            batch_logs,
            per_batch: Vec::new(),
            points: Vec::new(),
        }
    }
}

impl Callback for Recorder {
    fn reads_batch_logs(&self) -> bool {
        self.batch_logs
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        if self.batch_logs {
            let logs = ctx.logs().iter().map(|(k, v)| (k.to_string(), v)).collect();
            self.per_batch.push(logs);
        }
        if batch == 1 {
            self.points
                .push(ctx.resume_point()?.expect("fit has resume points"));
        }
        Ok(())
    }
}
