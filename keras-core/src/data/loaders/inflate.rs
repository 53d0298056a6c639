//! DEFLATE decompression (RFC 1951) for `np.savez_compressed` entries and `.csv.gz` files.
//!
//! A small canonical-Huffman decoder in the manner of zlib's `puff.c`: it decodes one bit at a
//! time, which is plenty for data-set files, and it never panics nor grows the output past the
//! size the container declares (so a hostile file cannot exhaust memory).

/// Why decompression failed, in words.
pub(crate) type InflateResult<T> = std::result::Result<T, String>;

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which code-length code lengths are stored in a dynamic block header.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Decompresses one raw DEFLATE stream whose output must not exceed `limit` bytes.
///
/// Returns the output and the number of input bytes the stream used (a container's trailer
/// follows them).
pub(crate) fn inflate(input: &[u8], limit: usize) -> InflateResult<(Vec<u8>, usize)> {
    let mut bits = Bits {
        input,
        pos: 0,
        buf: 0,
        count: 0,
    };
    let mut out = Vec::with_capacity(limit.min(input.len().saturating_mul(4)));
    loop {
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => stored(&mut bits, &mut out, limit)?,
            1 => {
                let (lengths, distances) = fixed_codes()?;
                codes(&mut bits, &mut out, limit, &lengths, &distances)?;
            }
            2 => {
                let (lengths, distances) = dynamic_codes(&mut bits)?;
                codes(&mut bits, &mut out, limit, &lengths, &distances)?;
            }
            _ => return Err("invalid block type 3".to_string()),
        }
        if last {
            return Ok((out, bits.pos));
        }
    }
}

/// Least-significant-bit-first reader.
struct Bits<'a> {
    input: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Bits<'_> {
    /// The next `need` (at most 16) bits.
    fn take(&mut self, need: u32) -> InflateResult<u32> {
        while self.count < need {
            let byte = *self
                .input
                .get(self.pos)
                .ok_or("compressed data ends early")?;
            self.pos += 1;
            self.buf |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let value = self.buf & ((1u32 << need) - 1);
        self.buf >>= need;
        self.count -= need;
        Ok(value)
    }

    /// Drops the rest of the current byte (fewer than 8 bits are ever buffered).
    fn align(&mut self) {
        self.buf = 0;
        self.count = 0;
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    /// Builds the code from per-symbol code lengths (each at most 15).
    fn new(lengths: &[u8]) -> InflateResult<Self> {
        let mut counts = [0u16; 16];
        for &len in lengths {
            counts[usize::from(len.min(15))] += 1;
        }
        let mut left: i32 = 1;
        for &count in &counts[1..] {
            left = (left << 1) - i32::from(count);
            if left < 0 {
                return Err("over-subscribed Huffman code".to_string());
            }
        }
        let mut offsets = [0usize; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + usize::from(counts[len]);
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (symbol, &len) in lengths.iter().enumerate() {
            if len != 0 {
                let slot = &mut offsets[usize::from(len.min(15))];
                if let Some(s) = symbols.get_mut(*slot) {
                    *s = symbol as u16;
                }
                *slot += 1;
            }
        }
        Ok(Self { counts, symbols })
    }

    fn decode(&self, bits: &mut Bits) -> InflateResult<usize> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for &count in &self.counts[1..] {
            code |= bits.take(1)? as i32;
            let count = i32::from(count);
            if code - first < count {
                let slot = (index + code - first) as usize;
                return self
                    .symbols
                    .get(slot)
                    .map(|&s| usize::from(s))
                    .ok_or_else(bad_code);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(bad_code())
    }
}

fn bad_code() -> String {
    "invalid Huffman code".to_string()
}

fn push_checked(out: &[u8], extra: usize, limit: usize) -> InflateResult<()> {
    match out.len().checked_add(extra) {
        Some(n) if n <= limit => Ok(()),
        _ => Err(format!(
            "decompressed data is larger than the declared {limit} bytes"
        )),
    }
}

fn stored(bits: &mut Bits, out: &mut Vec<u8>, limit: usize) -> InflateResult<()> {
    bits.align();
    let header = bits
        .input
        .get(bits.pos..bits.pos + 4)
        .ok_or("stored block header ends early")?;
    let len = u16::from_le_bytes([header[0], header[1]]);
    let nlen = u16::from_le_bytes([header[2], header[3]]);
    if len != !nlen {
        return Err("stored block length does not match its complement".to_string());
    }
    let start = bits.pos + 4;
    let data = bits
        .input
        .get(start..start + usize::from(len))
        .ok_or("stored block ends early")?;
    push_checked(out, data.len(), limit)?;
    out.extend_from_slice(data);
    bits.pos = start + usize::from(len);
    Ok(())
}

fn fixed_codes() -> InflateResult<(Huffman, Huffman)> {
    let mut lengths = [8u8; 288];
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    Ok((Huffman::new(&lengths)?, Huffman::new(&[5u8; 30])?))
}

fn dynamic_codes(bits: &mut Bits) -> InflateResult<(Huffman, Huffman)> {
    let nlen = bits.take(5)? as usize + 257;
    let ndist = bits.take(5)? as usize + 1;
    let ncode = bits.take(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err("too many length or distance codes".to_string());
    }
    let mut code_lengths = [0u8; 19];
    for &slot in &CODE_LENGTH_ORDER[..ncode] {
        code_lengths[slot] = bits.take(3)? as u8;
    }
    let length_code = Huffman::new(&code_lengths)?;
    let mut lengths = vec![0u8; nlen + ndist];
    let mut index = 0;
    while index < nlen + ndist {
        let symbol = length_code.decode(bits)?;
        let (value, repeat) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 => {
                let previous = index.checked_sub(1).map(|i| lengths[i]);
                let previous = previous.ok_or("repeat code with no previous length")?;
                (previous, 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        let end = index + repeat;
        let run = lengths
            .get_mut(index..end)
            .ok_or("code lengths overrun the header")?;
        run.fill(value);
        index = end;
    }
    if lengths[256] == 0 {
        return Err("no end-of-block code".to_string());
    }
    Ok((
        Huffman::new(&lengths[..nlen])?,
        Huffman::new(&lengths[nlen..])?,
    ))
}

fn codes(
    bits: &mut Bits,
    out: &mut Vec<u8>,
    limit: usize,
    lengths: &Huffman,
    distances: &Huffman,
) -> InflateResult<()> {
    loop {
        let symbol = lengths.decode(bits)?;
        if symbol < 256 {
            push_checked(out, 1, limit)?;
            out.push(symbol as u8);
            continue;
        }
        if symbol == 256 {
            return Ok(());
        }
        let i = symbol - 257;
        let (&base, &extra) = LEN_BASE
            .get(i)
            .zip(LEN_EXTRA.get(i))
            .ok_or("invalid length code")?;
        let len = usize::from(base) + bits.take(u32::from(extra))? as usize;
        let d = distances.decode(bits)?;
        let (&base, &extra) = DIST_BASE
            .get(d)
            .zip(DIST_EXTRA.get(d))
            .ok_or("invalid distance code")?;
        let dist = usize::from(base) + bits.take(u32::from(extra))? as usize;
        if dist > out.len() {
            return Err("distance points before the start of the data".to_string());
        }
        push_checked(out, len, limit)?;
        let start = out.len() - dist;
        for k in 0..len {
            out.push(out[start + k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_block_comes_back_verbatim() {
        let stream = [0b001, 3, 0, !3u8, 0xff, b'a', b'b', b'c'];
        assert_eq!(inflate(&stream, 10).unwrap(), (b"abc".to_vec(), 8));
    }

    #[test]
    fn a_fixed_block_with_a_back_reference_decodes() {
        // zlib.compress(b"abcabcabc", 9)[2:-4]
        let stream = [0x4b, 0x4c, 0x4a, 0x4e, 0x04, 0x23, 0x00];
        assert_eq!(inflate(&stream, 9).unwrap().0, b"abcabcabc");
    }

    #[test]
    fn output_past_the_limit_is_an_error() {
        let stream = [0x4b, 0x4c, 0x4a, 0x4e, 0x04, 0x23, 0x00];
        assert!(inflate(&stream, 8)
            .unwrap_err()
            .contains("larger than the declared 8"));
    }

    #[test]
    fn truncated_or_garbage_streams_are_errors_not_panics() {
        let stream = [0x4b, 0x4c, 0x4a, 0x4e, 0x04, 0x23, 0x00];
        for cut in 0..stream.len() {
            assert!(inflate(&stream[..cut], 100).is_err());
        }
        let mut state = 12345u32;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                    (state >> 24) as u8
                })
                .collect();
            let _ = inflate(&bytes, 1 << 16);
        }
    }
}
