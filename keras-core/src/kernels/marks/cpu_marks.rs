//! [`CpuMarks`]: a step profile's marks on `Cpu`, whose work runs on the host as it is called.

use std::time::Instant;

/// The host's clock at each mark.
#[derive(Debug, Default)]
pub struct CpuMarks {
    marks: Vec<Instant>,
}

impl CpuMarks {
    /// Records now.
    pub fn mark(&mut self) {
        self.marks.push(Instant::now());
    }

    /// The milliseconds between consecutive marks, into `out`; forgets the marks.
    pub fn take_intervals(&mut self, out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            self.marks
                .windows(2)
                .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3),
        );
        self.marks.clear();
    }
}
