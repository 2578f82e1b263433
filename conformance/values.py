"""Argument and result lists on disk, as `.npz` files that load without pickle.

Entry ``"<k>"`` holds the k-th value as an array.  A NumPy random ``Generator`` (the
one kind of non-array value the suite's graphs take or return) is stored as
``"<k>.rng"``, the JSON text of its bit generator's state, and rebuilt from it; a
``slice`` (what a graph of ``MakeSlice`` returns) as ``"<k>.slice"``, the JSON list
of its start, stop and step (integers or nulls).
Only NumPy is imported here: the runner uses this in a process without PyTensor.
"""

import json

import numpy as np


class Unsaveable(Exception):
    """A value that is neither an array, a number nor a NumPy Generator."""


def _entries(values) -> dict:
    entries = {}
    for k, value in enumerate(values):
        if isinstance(value, np.random.Generator):
            entries[f"{k}.rng"] = np.array(json.dumps(value.bit_generator.state))
        elif isinstance(value, slice):
            parts = [None if p is None else int(p) for p in (value.start, value.stop,
                                                               value.step)]
            entries[f"{k}.slice"] = np.array(json.dumps(parts))
        elif isinstance(value, (np.ndarray, np.generic, int, float, complex, bool)):
            entries[str(k)] = np.asarray(value)
        else:
            raise Unsaveable(f"value {k} is a {type(value).__module__}."
                             f"{type(value).__qualname__}")
    return entries


def save(path, values) -> None:
    np.savez(path, **_entries(values))


def _generator(state_json: str) -> np.random.Generator:
    state = json.loads(state_json)
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def load(path) -> list:
    with np.load(path, allow_pickle=False) as data:
        entries = {key: data[key] for key in data.files}
    values = {}
    for key, array in entries.items():
        if key.endswith(".rng"):
            values[int(key[:-4])] = _generator(str(array))
        elif key.endswith(".slice"):
            values[int(key[:-6])] = slice(*json.loads(str(array)))
        else:
            values[int(key)] = array
    return [values[k] for k in range(len(values))]


def same(a, b) -> bool:
    """Exact equality of two saved-form values (arrays bit for bit, NaNs equal)."""
    if isinstance(a, np.random.Generator) or isinstance(b, np.random.Generator):
        return (isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator)
                and a.bit_generator.state == b.bit_generator.state)
    if isinstance(a, slice) or isinstance(b, slice):
        return isinstance(a, slice) and isinstance(b, slice) and a == b
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
