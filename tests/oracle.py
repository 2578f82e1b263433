"""The execution oracle: transpile a graph, import the module, run it, and compare
every output (value, dtype, shape) with PyTensor's own evaluation of the same graph.

Generated modules are written under ``.test_modules/`` with a content-hash file name,
so Numba's on-disk cache (``cache=True``) is reused between test runs and between
tests that produce the same module.
"""

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytensor
from pytensor.compile.mode import Mode

import transpile

MODULE_DIR = Path(__file__).resolve().parent.parent / ".test_modules"
REFERENCE_MODE = Mode(linker="py", optimizer=None)  # PyTensor's own perform() code


def import_source(source: str, stem: str = "k"):
    """Write ``source`` to a content-addressed file and import it."""
    MODULE_DIR.mkdir(exist_ok=True)
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"{stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    path = MODULE_DIR / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        # Atomic: parallel test workers may write the same module at once.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def graph_file(inputs, outputs) -> Path:
    """``(inputs, outputs)`` written as a graph file (``transpile.dump``), as a user
    would hand it to ``transpile``: every graph the tests check goes through the
    loader.  Content-addressed under ``.test_modules/graphs/``."""
    import tempfile

    folder = MODULE_DIR / "graphs"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "graph.pkl"
        transpile.dump(list(inputs), _as_list(outputs), path)
        data = path.read_bytes()
    final = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.pkl"
    if not final.exists():
        tmp = final.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, final)
    return final


def transpile_module(inputs, outputs, **options):
    """The imported module generated for ``(inputs, outputs)``, from its graph file,
    written as ``transpile -o`` writes it (with its data file, when it has one)."""
    graph = graph_file(inputs, outputs)
    key = hashlib.sha256(repr(sorted(options.items())).encode()).hexdigest()[:8]
    name = f"g_{graph.stem}_{key}"
    path = MODULE_DIR / f"{name}.py"
    if name in sys.modules:
        return sys.modules[name]
    import tempfile

    # Written under its final name in a folder of this worker's own, then moved (with
    # its data file, if it has one): parallel workers never see a partial module.
    with tempfile.TemporaryDirectory(dir=MODULE_DIR) as tmp:
        staged = Path(tmp) / path.name
        source = transpile.transpile(graph, output=staged, **options)
        if staged.with_suffix(".npz").exists():
            os.replace(staged.with_suffix(".npz"), path.with_suffix(".npz"))
        if not path.exists() or path.read_text() != source:
            os.replace(staged, path)
    return _import(name, path)


def _import(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def reference(inputs, outputs, values):
    fn = pytensor.function(list(inputs), _as_list(outputs), mode=REFERENCE_MODE,
                           on_unused_input="ignore")
    return fn(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in values])


def tolerance(dtype) -> dict:
    dtype = np.dtype(dtype)
    if dtype == np.float32 or dtype == np.complex64:
        return {"rtol": 2e-5, "atol": 1e-6}
    return {"rtol": 1e-10, "atol": 1e-12}


def _input_tolerance(var, inputs) -> dict | None:
    """float32's tolerance for an output computed from a float32 or complex64 input,
    whatever its own dtype (``angle`` of a complex64 is declared float64 but holds a
    float32 result, and NumPy's SIMD float32 functions differ by an ulp between
    machines); None (the output's own dtype decides) otherwise."""
    try:
        from pytensor.graph.traversal import ancestors
    except ImportError:  # older PyTensor
        from pytensor.graph.basic import ancestors

    narrow = {"float32", "complex64"}
    used = set(ancestors([var]))
    if any(getattr(v.type, "dtype", None) in narrow for v in inputs if v in used):
        return tolerance("float32")
    return None


def check_output(got, want, var, label: str, tol: dict | None = None) -> None:
    want = np.asarray(want)
    dtype = np.dtype(var.type.dtype)
    if want.dtype.kind == "c" and dtype.kind == "f":
        dtype = want.dtype  # PyTensor 2.38 types a complex QR's factors real
    if var.type.ndim == 0:
        # Numba returns 0-d results as scalars; check the kind, then the value.
        got_arr = np.asarray(got)
        assert got_arr.ndim == 0, f"{label}: expected a scalar, got shape {got_arr.shape}"
        assert got_arr.dtype.kind == dtype.kind or (
            dtype.kind in "iu" and got_arr.dtype.kind in "iu"
        ), f"{label}: kind {got_arr.dtype} != {dtype}"
        got = got_arr.astype(dtype)
    else:
        assert isinstance(got, np.ndarray), f"{label}: not an array: {type(got)}"
        assert got.dtype == dtype, f"{label}: dtype {got.dtype} != {dtype}"
        assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    if dtype.kind in "fc":
        np.testing.assert_allclose(got, want, equal_nan=True, err_msg=label,
                                   **(tol or tolerance(dtype)))
    else:
        np.testing.assert_array_equal(got, want, err_msg=label)


def compare(inputs, outputs, values, *, tol: dict | None = None, **options):
    """Run the generated module and PyTensor on ``values``; assert they agree, that
    no input was modified and that no output shares memory with an input.

    Returns the imported module (for further checks).
    """
    outputs = _as_list(outputs)
    module = transpile_module(inputs, outputs, **options)
    want = reference(inputs, outputs, values)
    originals = [np.copy(v) for v in values]
    got = module.kernel(*values)
    got = list(got) if len(outputs) > 1 else [got]
    assert len(got) == len(outputs)
    for k, (g, w, var) in enumerate(zip(got, want, outputs, strict=True)):
        check_output(g, w, var, f"output {k} ({var})", tol or _input_tolerance(var, inputs))
    for k, (v, o) in enumerate(zip(values, originals, strict=True)):
        np.testing.assert_array_equal(np.asarray(v), o, err_msg=f"input {k} was modified")
        for j, g in enumerate(got):
            if isinstance(g, np.ndarray) and isinstance(v, np.ndarray):
                assert not np.shares_memory(g, v), f"output {j} aliases input {k}"
    return module
