"""Regenerates the .npy/.npz/.gz test files in this folder (NumPy 2.4, Python 3).

Run from this folder: `python3 make_test_data.py` (needs /work/shared/data for digits).
"""
import gzip
import zipfile

import numpy as np
from numpy.lib import format as npy_format

np.savez(
    "mnist_tiny.npz",
    x_train=np.array([[[0, 255], [128, 1]], [[1, 2], [3, 4]], [[9, 8], [7, 6]]], dtype=np.uint8),
    y_train=np.array([5, 0, 4], dtype=np.uint8),
)
np.savez(
    "dtypes.npz",
    f4=np.array([1.5, -2.25], dtype="<f4"),
    f8=np.array([[0.1, 1e10], [-3.0, 0.0]], dtype="<f8"),
    i4=np.array([-7, 2**31 - 1], dtype="<i4"),
    i8=np.array([[-(2**40)], [3]], dtype="<i8"),
    u1=np.array([0, 200, 255], dtype="u1"),
    b1=np.array([True, False, True]),
    scalar=np.array(3.5, dtype="<f4"),
    empty=np.zeros((0, 3), dtype="<f4"),
)
np.savez_compressed(
    "compressed.npz",
    a=np.arange(1000, dtype="<f8").reshape(10, 100) / 7,
    labels=np.tile(np.arange(10, dtype="<i8"), 50),
)
np.save("f8_2x3.npy", np.array([[1, 2, 3], [4, 5, 6]], dtype="<f8") / 4)
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
np.save("big_endian.npy", np.arange(3, dtype=">f4"))
np.save("float16.npy", np.arange(3, dtype="<f2"))
for major in (2, 3):
    with open(f"v{major}.npy", "wb") as f:
        npy_format.write_array(f, np.array([[1, 2], [3, 4]], dtype="<i4"), version=(major, 0))
with zipfile.ZipFile("not_npy.npz", "w") as z:
    z.writestr("readme.txt", "hello")
rows = gzip.open("/work/shared/data/digits.csv.gz").read().split(b"\n")[:5]
with open("digits_head.csv.gz", "wb") as f:
    f.write(gzip.compress(b"\n".join(rows) + b"\n", mtime=0))
