"""Plain-Python functions a generated module uses to load its data file.

A module whose graph holds large arrays (a model's data, a weight matrix) keeps them in
a NumPy ``.npz`` file beside it rather than in its source, and its entries take them as
arguments (transpile/data.py).  These functions are copied verbatim into such a module,
which calls ``load_data`` once when it is imported.  They use NumPy only, and are also
what transpile itself computes the recorded checksums with.
"""

import numpy as np


def data_checksum(array):
    """A 64-bit checksum of an array's bytes (not cryptographic: it tells a data file
    that belongs to another module, or was changed, from the right one)."""
    raw = np.ascontiguousarray(array).tobytes()
    words = np.frombuffer(raw + bytes(-len(raw) % 8), dtype=np.uint64)
    weights = np.arange(1, words.size + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    mixed = (words ^ (words >> np.uint64(29))) * weights
    return int(np.bitwise_xor.reduce(mixed, initial=np.uint64(len(raw))))


def load_data(file_name, expected):
    """The arrays of ``file_name``, a file beside this module, each checked against
    the dtype, shape and checksum it was generated with: ``{name: (dtype, shape,
    checksum)}``."""
    folder = __file__[: max(__file__.rfind("/"), __file__.rfind("\\")) + 1]
    arrays = {}
    with np.load(folder + file_name, allow_pickle=False) as stored:
        for name, (dtype, shape, checksum) in expected.items():
            array = stored[name] if name in stored.files else None
            if (array is None or array.dtype != np.dtype(dtype) or array.shape != shape
                    or data_checksum(array) != checksum):
                raise ValueError(f"{file_name} does not hold the {name} this module was "
                                 "generated with: regenerate the two together")
            arrays[name] = array
    return arrays
