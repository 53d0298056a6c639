"""The topic data set of `examples/text_classification.rs`, made the same way in Python.

`examples/common/text.rs` is the Rust side; both draw from SplitMix64 in the same order, so
`sentences(n, seed)` returns the same sentences and labels on both sides, and `Vocabulary`
assigns the same ids (`keras-core`'s text test checks the ids against a Keras fixture made from
this file). No downloads: the sentences are made from the word lists below.
"""
import string

CLASS_NAMES = ["sports", "food", "tech"]
TOPIC_WORDS = [
    "match team goal coach season players score league win stadium".split(),
    "recipe dinner sauce oven flavour chef bake salad spicy kitchen".split(),
    "laptop software code battery screen app update chip network keyboard".split(),
]
# Words every topic uses ("a hot new chip", "a hot sauce", "a hot streak").
SHARED_WORDS = "hot fast fan play board cool new great".split()
FILLER_WORDS = "the a this that it is was and very really so my our with about for".split()
# Rare words: most fall outside the vocabulary and become the out-of-vocabulary id.
RARE_WORDS = (
    "zorb quill fennick brask tuvo melk drossa pim yarrow kelt "
    "obb snerf glim tavvy rusk plo wend harl ixi voss"
).split()

PAD, OOV = 0, 1
MASK64 = (1 << 64) - 1


class SplitMix64:
    """Steele, Lea and Flood's SplitMix64 (as in Java's SplittableRandom)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        """A float in [0, 1) with 53 random bits."""
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def below(self, n):
        return self.next_u64() % n


def pick(rng, words):
    return words[rng.below(len(words))]


def sentences(n, seed):
    """`n` sentences of 5 to 14 words and their topics (0 sports, 1 food, 2 tech).

    Each word is one of the topic's words (30%), another topic's (6%), a shared word (12%), a
    rare word (4%) or a filler word; 5% of the labels are then moved to another topic.
    """
    rng = SplitMix64(seed)
    texts, labels = [], []
    for _ in range(n):
        label = rng.below(3)
        words = []
        for _ in range(5 + rng.below(10)):
            u = rng.uniform()
            if u < 0.30:
                words.append(pick(rng, TOPIC_WORDS[label]))
            elif u < 0.36:
                other = (label + 1 + rng.below(2)) % 3
                words.append(pick(rng, TOPIC_WORDS[other]))
            elif u < 0.48:
                words.append(pick(rng, SHARED_WORDS))
            elif u < 0.52:
                words.append(pick(rng, RARE_WORDS))
            else:
                words.append(pick(rng, FILLER_WORDS))
        if rng.uniform() < 0.05:
            label = (label + 1 + rng.below(2)) % 3
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def standardize(text):
    """Keras's `lower_and_strip_punctuation` for ASCII text."""
    return "".join(c for c in text.lower() if c not in string.punctuation)


class Vocabulary:
    """Keras's `TextVectorization(max_tokens, output_sequence_length)` on whitespace words:
    id 0 pads, id 1 is out of vocabulary, then the most frequent words of `adapt`'s texts
    (ties by spelling)."""

    def __init__(self, texts, max_tokens):
        counts = {}
        for text in texts:
            for word in standardize(text).split():
                counts[word] = counts.get(word, 0) + 1
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        self.words = ["", "[UNK]"] + ranked[: max_tokens - 2]
        self.ids = {w: i for i, w in enumerate(self.words) if i >= 2}

    def vectorize(self, text, length):
        ids = [self.ids.get(w, OOV) for w in standardize(text).split()][:length]
        return ids + [PAD] * (length - len(ids))
