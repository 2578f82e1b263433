"""Data out of the source: large arrays go to a ``.npz`` file beside the module.

An array constant with more than ``DATA_MIN_ELEMENTS`` elements is not written as a
literal.  The entry functions take it as an argument instead (``x_data``), named after
the constant, so Numba neither freezes it into the compiled code nor recompiles for new
values, and ``cache=True`` holds across processes; the module loads it, once, from
``<module>.npz`` beside itself and checks it against the dtype, shape and checksum
recorded in its source.  A module with data is written with ``-o FILE``: the module to
FILE, the data to FILE's ``.npz``, each atomically.

The module then has, per entry ``kernel``: ``kernel_with_data(x, x_data)``, the
``@numba.njit`` function (for other Numba code, and for other data), and ``kernel(x,
*, x_data=DATA["x_data"])``, a Python function that passes the recorded data (each
keyword may be given anew).  Graphs without large constants keep a single ``@njit``
``kernel`` and no data file.
"""

import io
import textwrap
import zipfile
from pathlib import Path

import libcst as cst
import numpy as np

from . import syntax as sx
from .errors import TranspileError
from .runtime.data import data_checksum

# Constants up to this many elements stay literals (a 64-element float64 vector is
# a few lines of source); larger ones are data.
DATA_MIN_ELEMENTS = 64

_RUNTIME = Path(__file__).parent / "runtime" / "data.py"


def is_data(value: np.ndarray) -> bool:
    return value.size > DATA_MIN_ELEMENTS


def data_file_for(output) -> str | None:
    """The data file's name for a module written to ``output`` (``kernels.npz`` for
    ``kernels.py``), or None for a module that goes to stdout."""
    if output is None:
        return None
    return Path(output).with_suffix(".npz").name


def npz_bytes(arrays: dict) -> bytes:
    """An ``.npz`` of ``arrays`` that is the same bytes for the same arrays (NumPy's
    own ``savez`` stamps the time into the zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def needs_output_error(count: int) -> TranspileError:
    return TranspileError(
        f"this graph holds {count} array{'s' if count > 1 else ''} too large to write "
        f"as literals (more than {DATA_MIN_ELEMENTS} elements): they go to a data file "
        "beside the module, so write it with -o FILE (the Python API: output=FILE)")


def _runtime_functions() -> list[cst.FunctionDef]:
    tree = cst.parse_module(_RUNTIME.read_text())
    return [stmt.with_changes(leading_lines=[]) for stmt in tree.body
            if isinstance(stmt, cst.FunctionDef)]


def in_file(data: dict) -> dict:
    """The arrays of ``data`` that go to the data file (the rest are literals)."""
    return {name: array for name, array in data.items() if is_data(array)}


def module_statements(data: dict, file_name: str | None) -> list:
    """The module-level statements that define ``DATA`` (name -> array): the large
    arrays loaded from ``file_name`` (the loading functions, then ``load_data(...)``),
    the small ones written out (``np.array([...])``)."""
    from .context import array_literal

    stored = in_file(data)
    entries = []
    statements = []
    if stored:
        expected = []
        for name, array in stored.items():
            shape = sx.tuple_(sx.literal(int(n)) for n in array.shape)
            record = sx.tuple_([sx.string(array.dtype.name), shape,
                                cst.Integer(hex(data_checksum(array)))])
            expected.append(cst.DictElement(sx.string(name), record))
        load = sx.call("load_data", sx.name("DATA_FILE"), cst.Dict(expected))
        statements += [sx.assign("DATA_FILE", sx.string(file_name)), *_runtime_functions()]
        entries.append(cst.StarredDictElement(load))
    entries += [cst.DictElement(sx.string(name), array_literal(array))
                for name, array in data.items() if name not in stored]
    value = entries[0].value if len(entries) == 1 and stored else cst.Dict(entries)
    return [*statements, sx.assign("DATA", value)]


def python_entry(name: str, jitted: str, params: list[str], data_params: list[tuple],
                 file_name: str | None, slices=(), n_outputs: int = 1) -> cst.FunctionDef:
    """``def name(x, *, x_data=DATA["x_data"]): return jitted(x, x_data)``; with
    ``slices`` (the positions of slice outputs, which ``jitted`` returns as
    ``(start, stop, step)``), ``return slice(*jitted(x))`` or ``parts = jitted(x)``,
    ``return (slice(*parts[0]), parts[1])``."""
    keyword = [cst.Param(cst.Name(param), default=cst.Subscript(
        sx.name("DATA"), [cst.SubscriptElement(cst.Index(sx.string(key)))]))
        for param, key in data_params]
    where = f"of {file_name}" if file_name else "in DATA"
    said = [f"with the data {where} (any of them may be given anew, as a keyword)"
            if data_params else "",
            "with its slice outputs made slices (Numba returns a slice as its start, "
            "stop and step)" if slices else ""]
    text = textwrap.fill(f"``{jitted}`` {', and '.join(filter(None, said))}.", 80,
                         subsequent_indent="    ")
    doc = cst.SimpleString(f'"""{text}"""')
    call = sx.call(jitted, *(sx.name(p) for p in params),
                   *(sx.name(p) for p, _ in data_params))
    body = [sx.expr_stmt(doc)]
    if not slices:
        body.append(sx.return_(call))
    elif n_outputs == 1:
        body.append(sx.return_(sx.call("slice", cst.StarredElement(call))))
    else:
        body.append(sx.assign("parts", call))
        outs = [sx.subscript(sx.name("parts"), [sx.literal(k)]) for k in range(n_outputs)]
        body.append(sx.return_(sx.tuple_(
            sx.call("slice", cst.StarredElement(out)) if k in slices else out
            for k, out in enumerate(outs))))
    return cst.FunctionDef(
        name=cst.Name(name),
        params=cst.Parameters([cst.Param(cst.Name(p)) for p in params],
                              star_arg=cst.ParamStar() if keyword else cst.MaybeSentinel.DEFAULT,
                              kwonly_params=keyword),
        body=sx.block(body),
    )


def write_module(path, source: str, data: dict) -> None:
    """Write the module to ``path`` and its data file (if it has one) beside it, all
    or none (output.write_all_atomic): both are staged before either is renamed into
    place, the data first, so that a module on disk never names data that is not
    there (an older module beside newer data fails its checksum, loudly)."""
    from .output import write_all_atomic

    path = Path(path)
    stored = in_file(data)
    files = [(path.with_suffix(".npz"), npz_bytes(stored))] if stored else []
    write_all_atomic([*files, (path, source)])
