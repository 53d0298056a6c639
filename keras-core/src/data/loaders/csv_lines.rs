//! 1-based line numbers for CSV records.
//!
//! The `csv` crate's `Position::line` is unreliable (it counts from where the previous record
//! ended, so blank lines and `\r\n` endings shift it), but its byte offsets are exact; this
//! counts line breaks up to the record's first byte instead.

/// Maps byte offsets of a text to line numbers; offsets must be asked in increasing order.
pub(crate) struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    /// A counter over `text`, at line 1.
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The line of the first byte at or after `offset` that is not a line break: the first
    /// line of a record that the `csv` crate says starts at `offset`.
    pub(crate) fn record_line(&mut self, offset: u64) -> usize {
        let mut start = usize::try_from(offset).map_or(self.text.len(), |o| o.min(self.text.len()));
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.pos {
            (self.pos, self.line) = (0, 1);
        }
        for i in self.pos..start {
            // `\n`, `\r\n` and a lone `\r` each end one line.
            let lone_cr = self.text[i] == b'\r' && self.text.get(i + 1) != Some(&b'\n');
            if self.text[i] == b'\n' || lone_cr {
                self.line += 1;
            }
        }
        self.pos = start;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, offsets: &[u64]) -> Vec<usize> {
        let mut counter = LineCounter::new(text.as_bytes());
        offsets.iter().map(|&o| counter.record_line(o)).collect()
    }

    #[test]
    fn blank_lines_between_records_are_counted() {
        // The offsets the csv crate reports: where the previous record ended.
        assert_eq!(lines("a,b\n\n1,2\n\n3,y\n", &[0, 4, 9]), [1, 3, 5]);
        assert_eq!(lines("\n\na,b\n1,2\n", &[0, 6]), [3, 4]);
    }

    #[test]
    fn crlf_and_lone_cr_endings_count_once_per_line() {
        assert_eq!(lines("a,b\r\n1,2\r\n3,4\r\n", &[0, 4, 9]), [1, 2, 3]);
        assert_eq!(lines("a,b\r\n\r\n1,2\r\n", &[0, 4]), [1, 3]);
        assert_eq!(lines("a,b\r1,2\r3,4", &[0, 4, 8]), [1, 2, 3]);
    }

    #[test]
    fn a_multi_line_record_is_numbered_by_its_first_line() {
        assert_eq!(lines("a,b\n\"1\n2\",3\n4,5", &[0, 4, 12]), [1, 2, 4]);
    }

    #[test]
    fn offsets_past_the_end_or_going_back_stay_in_range() {
        assert_eq!(lines("a\nb\n", &[u64::MAX, 0]), [3, 1]);
    }
}
