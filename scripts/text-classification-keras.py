"""Keras 3 on the data and recipe of `examples/text_classification.rs`: prints test accuracy.

    KERAS_BACKEND=jax /tmp/kvenv/bin/python scripts/text-classification-keras.py [SEED ...]

The sentences, labels and token ids are the example's (`text_data.py` is
`examples/common/text.rs` in Python; the first sentence's ids are printed to compare with the
example's output). Keras's `TextVectorization` needs TensorFlow, so the words are turned into ids
by `text_data.Vocabulary`, which follows its rules. Weights and shuffles come from
`keras.utils.set_random_seed(SEED)` (seeds 0 to 4 by default; the example's doc comment
quotes seeds 0 to 19: `... text-classification-keras.py $(seq 0 19)`).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras  # noqa: E402
import numpy as np  # noqa: E402
from text_data import CLASS_NAMES, Vocabulary, sentences  # noqa: E402

MAX_TOKENS, LENGTH = 64, 12

train_texts, train_labels = sentences(2000, 1)
test_texts, test_labels = sentences(500, 2)
vocab = Vocabulary(train_texts, MAX_TOKENS)
x_train = np.array([vocab.vectorize(t, LENGTH) for t in train_texts], "int32")
x_test = np.array([vocab.vectorize(t, LENGTH) for t in test_texts], "int32")
y_train, y_test = np.array(train_labels), np.array(test_labels)
print(f"{train_texts[0]!r} ({CLASS_NAMES[train_labels[0]]})")
print(f"  -> {x_train[0].tolist()}")

accuracies = []
for seed in [int(s) for s in sys.argv[1:]] or range(5):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((LENGTH,), dtype="int32"),
            keras.layers.Embedding(MAX_TOKENS, 16),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(3),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=6, validation_split=0.2, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    accuracies.append(accuracy)
    print(f"seed {seed}: test loss {loss:.4f} - test accuracy {accuracy:.4f}")
print(
    f"keras {keras.__version__}: test accuracy {np.mean(accuracies):.4f} "
    f"(mean of {len(accuracies)} seeds, standard deviation {np.std(accuracies, ddof=1):.4f})"
)
