"""Keras 3.15.1 (JAX backend, CPU) fixture: what `History` holds under `learning_rate` when
`ReduceLROnPlateau` lowers the rate during `fit` (`keras_history_lr.json`, read by
`keras-core/tests/golden_callbacks.rs`).

    python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install keras==3.15.1 jax
    KERAS_BACKEND=jax /tmp/kvenv/bin/python make_keras_history_lr.py > keras_history_lr.json

`min_delta` is far larger than any loss, so after the first epoch no epoch counts as an
improvement: the rates depend only on `factor`, `patience`, `cooldown` and `min_lr`, not on the
losses, and a reimplementation must log the very same sequence.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

CASES = [
    dict(factor=0.5, patience=1, cooldown=0, min_lr=0.0),
    dict(factor=0.2, patience=2, cooldown=1, min_lr=0.001),
    dict(factor=0.1, patience=0, cooldown=0, min_lr=0.0005),
]


def main():
    assert keras.backend.backend() == "jax", keras.backend.backend()
    keras.utils.set_random_seed(0)
    x = (np.arange(24, dtype=np.float32) / 10.0).reshape(12, 2)
    y = (np.arange(12) % 3).astype(np.float32)
    cases = []
    for c in CASES:
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.1),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        cb = keras.callbacks.ReduceLROnPlateau(monitor="loss", min_delta=100.0, verbose=0, **c)
        h = model.fit(x, y, batch_size=4, epochs=8, shuffle=False, verbose=0, callbacks=[cb])
        cases.append({
            "name": "ReduceLROnPlateau[" + ",".join(f"{k}={v}" for k, v in c.items()) + "]",
            "config": dict(c, monitor="loss", min_delta=100.0, learning_rate=0.1, epochs=8,
                           batch_size=4, samples=12),
            "expected": {
                "history_keys": list(h.history.keys()),
                "learning_rate": [float(v) for v in h.history["learning_rate"]],
            },
        })
    print(json.dumps({"keras_version": keras.__version__, "backend": "jax", "cases": cases},
                     indent=1))


if __name__ == "__main__":
    main()
