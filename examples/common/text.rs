//! A topic data set made on the spot (no downloads), and Keras's `TextVectorization` on words.
//!
//! `scripts/text_data.py` is the same code in Python: both draw from SplitMix64 in the same
//! order, so `sentences(n, seed)` returns the same sentences and labels on both sides and
//! [`Vocabulary`] assigns the same ids (`tests/text_classification.rs` checks the ids against
//! the Keras fixture made from the Python side).

use std::collections::HashMap;

/// The topics, by label.
pub const CLASS_NAMES: [&str; 3] = ["sports", "food", "tech"];
const TOPIC_WORDS: [&str; 3] = [
    "match team goal coach season players score league win stadium",
    "recipe dinner sauce oven flavour chef bake salad spicy kitchen",
    "laptop software code battery screen app update chip network keyboard",
];
/// Words every topic uses ("a hot new chip", "a hot sauce", "a hot streak").
const SHARED_WORDS: &str = "hot fast fan play board cool new great";
const FILLER_WORDS: &str = "the a this that it is was and very really so my our with about for";
/// Rare words: most fall outside the vocabulary and become the out-of-vocabulary id.
const RARE_WORDS: &str = "zorb quill fennick brask tuvo melk drossa pim yarrow kelt \
                          obb snerf glim tavvy rusk plo wend harl ixi voss";

/// The padding id.
pub const PAD: usize = 0;
/// The out-of-vocabulary id.
pub const OOV: usize = 1;

/// Steele, Lea and Flood's SplitMix64 (as in Java's `SplittableRandom`).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A float in `[0, 1)` with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn pick<'a>(&mut self, words: &'a str) -> &'a str {
        let words: Vec<&str> = words.split_whitespace().collect();
        words[self.below(words.len())]
    }
}

/// `n` sentences of 5 to 14 words and their topics (0 sports, 1 food, 2 tech).
///
/// Each word is one of the topic's words (30%), another topic's (6%), a shared word (12%), a
/// rare word (4%) or a filler word; 5% of the labels are then moved to another topic.
pub fn sentences(n: usize, seed: u64) -> (Vec<String>, Vec<usize>) {
    let mut rng = SplitMix64(seed);
    let (mut texts, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let mut label = rng.below(3);
        let len = 5 + rng.below(10);
        let mut words = Vec::with_capacity(len);
        for _ in 0..len {
            let u = rng.uniform();
            let word = if u < 0.30 {
                rng.pick(TOPIC_WORDS[label])
            } else if u < 0.36 {
                let other = (label + 1 + rng.below(2)) % 3;
                rng.pick(TOPIC_WORDS[other])
            } else if u < 0.48 {
                rng.pick(SHARED_WORDS)
            } else if u < 0.52 {
                rng.pick(RARE_WORDS)
            } else {
                rng.pick(FILLER_WORDS)
            };
            words.push(word);
        }
        if rng.uniform() < 0.05 {
            label = (label + 1 + rng.below(2)) % 3;
        }
        texts.push(words.join(" "));
        labels.push(label);
    }
    (texts, labels)
}

/// Keras's `lower_and_strip_punctuation` for ASCII text.
fn standardize(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect()
}

/// Keras's `TextVectorization(max_tokens, output_sequence_length)` on whitespace words: id 0
/// pads, id 1 is out of vocabulary, then the most frequent words of `adapt`'s texts (ties by
/// spelling).
pub struct Vocabulary {
    ids: HashMap<String, usize>,
}

impl Vocabulary {
    /// Learns the `max_tokens - 2` most frequent words of `texts`.
    pub fn adapt(texts: &[String], max_tokens: usize) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for word in standardize(text).split_whitespace() {
                *counts.entry(word.to_string()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
        ranked.sort_by(|(a, ca), (b, cb)| cb.cmp(ca).then_with(|| a.cmp(b)));
        let ids = ranked
            .into_iter()
            .take(max_tokens - 2)
            .enumerate()
            .map(|(i, (word, _))| (word, i + 2))
            .collect();
        Vocabulary { ids }
    }

    /// The ids of `text`'s words, cut or padded (with [`PAD`]) to `length`, as floats (the
    /// batch type; Keras casts its inputs the same way).
    pub fn vectorize(&self, text: &str, length: usize) -> Vec<f32> {
        let mut ids: Vec<f32> = standardize(text)
            .split_whitespace()
            .take(length)
            .map(|w| *self.ids.get(w).unwrap_or(&OOV) as f32)
            .collect();
        ids.resize(length, PAD as f32);
        ids
    }

    /// [`Vocabulary::vectorize`] for every text, concatenated.
    pub fn vectorize_all(&self, texts: &[impl AsRef<str>], length: usize) -> Vec<f32> {
        texts
            .iter()
            .flat_map(|t| self.vectorize(t.as_ref(), length))
            .collect()
    }
}
