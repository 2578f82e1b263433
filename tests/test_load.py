"""Loading graph pickles: every accepted form, ``transpile.dump``, and the
restricted unpickler's refusals (each names the offending global, and nothing the
pickle asked for runs)."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import import_source
from pytensor.compile.mode import Mode
from pytensor.graph.fg import FunctionGraph

import transpile
from transpile.load import graph_digest, load_bytes, load_file, load_object, to_fgraph


@pytest.fixture
def graph():
    x = pt.vector("x")
    s = pt.scalar("s")
    return [x, s], [pt.exp(x) * s, (x**2).sum()]


def _digest(obj):
    return graph_digest(to_fgraph(obj))


def _roundtrip(obj, protocol=pickle.HIGHEST_PROTOCOL, allowed=()):
    return to_fgraph(load_bytes(pickle.dumps(obj, protocol=protocol), allowed))


# ---- accepted forms ----------------------------------------------------------------


def test_every_form_loads_as_the_same_graph(graph):
    inputs, outputs = graph
    want = _digest((inputs, outputs))
    forms = {
        "pair": (inputs, outputs),
        "pair as list": [inputs, outputs],
        "FunctionGraph": FunctionGraph(inputs, outputs, clone=True),
    }
    for label, obj in forms.items():
        fgraph = _roundtrip(obj)
        assert [v.name for v in fgraph.inputs] == ["x", "s"], label
        assert len(fgraph.outputs) == 2, label
        assert graph_digest(fgraph) == want, label


def test_a_compiled_function_loads_as_the_graph_it_runs(graph):
    fn = pytensor.function(*graph, mode="FAST_COMPILE")
    fgraph = _roundtrip(fn)
    assert [v.name for v in fgraph.inputs] == ["x", "s"]
    assert len(fgraph.outputs) == 2
    assert graph_digest(fgraph) == graph_digest(fn.maker.fgraph)


def test_outputs_alone_take_their_free_variables_as_inputs(graph):
    (x, s), (y, total) = graph
    fgraph = _roundtrip([y, total])
    assert {v.name for v in fgraph.inputs} == {"x", "s"}
    assert [v.name for v in _roundtrip(total).inputs] == ["x"]  # a lone variable


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_pickle_protocol(graph, protocol):
    # Protocols 0-2 spell globals the Python 2 way (__builtin__.set, _codecs.encode).
    assert graph_digest(_roundtrip(graph, protocol)) == _digest(graph)


@pytest.mark.parametrize("protocol", [2, 3])
def test_nested_functions_by_getattr(protocol):
    # Protocols 2-3 spell the staticmethod Sign._output_types_preference as
    # getattr(Sign, "_output_types_preference").
    x = pt.vector("x")
    data = pickle.dumps(FunctionGraph([x], [pt.sign(x)], clone=True), protocol)
    assert b"_output_types_preference" in data
    assert len(to_fgraph(load_bytes(data)).outputs) == 1


def test_a_compiled_function_runs_as_the_same_kernel(graph, tmp_path):
    fn = pytensor.function(*graph, mode="FAST_COMPILE")
    path = tmp_path / "fn.pkl"
    path.write_bytes(pickle.dumps(fn))
    module = import_source(transpile.transpile(path))
    x, s = np.linspace(-1, 1, 5), 2.5
    for got, want in zip(module.kernel(x, s), fn(x, s), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_shared_variables_not_among_the_inputs_are_frozen():
    x = pt.vector("x")
    w = pytensor.shared(np.array([1.0, 2.0, 3.0]), name="w")
    fgraph = _roundtrip(([x], [x * w]))
    w.set_value(np.zeros(3))  # later changes do not reach the loaded graph
    assert fgraph.inputs[0].name == "x" and len(fgraph.inputs) == 1
    constants = [v for v in fgraph.variables if v.name == "w"]
    assert len(constants) == 1
    assert isinstance(constants[0], pytensor.graph.basic.Constant)
    np.testing.assert_array_equal(constants[0].data, [1.0, 2.0, 3.0])


def test_an_input_computed_from_others_cuts_the_graph():
    x = pt.vector("x")
    y = pt.exp(x)
    y.name = "y"
    fgraph = to_fgraph(([y], [y * 2]))
    assert [v.name for v in fgraph.inputs] == ["y"] and fgraph.inputs[0].owner is None
    assert not any(type(n.op).__name__ == "Elemwise" and "exp" in str(n.op).lower()
                   for n in fgraph.apply_nodes)


def test_shared_variables_listed_as_inputs_stay_inputs():
    x = pt.vector("x")
    w = pytensor.shared(np.ones(3), name="w")
    fgraph = to_fgraph(([x, w], [x * w]))
    assert [v.name for v in fgraph.inputs] == ["x", "w"]


def test_a_function_updating_shared_state_takes_and_returns_it():
    x = pt.vector("x")
    frozen = pytensor.shared(np.full(3, 2.0), name="frozen")
    state = pytensor.shared(np.zeros(3), name="state")
    fn = pytensor.function([x], x * frozen + state, updates={state: state + x},
                           mode="FAST_COMPILE")
    fgraph = _roundtrip(fn)
    assert [v.name for v in fgraph.inputs] == ["x", "state"]
    assert len(fgraph.outputs) == 2  # the output, then the new state
    module = import_source(transpile.transpile(fn))
    out, new_state = module.kernel(np.ones(3), np.full(3, 10.0))
    np.testing.assert_array_equal(out, np.full(3, 12.0))
    np.testing.assert_array_equal(new_state, np.full(3, 11.0))


# ---- transpile.dump --------------------------------------------------------------


def test_dump_round_trip(graph, tmp_path):
    inputs, outputs = graph
    path = tmp_path / "graph.pkl"
    transpile.dump(inputs, outputs, path)
    loaded = load_file(path)
    assert loaded.source == "graph.pkl"
    assert loaded.digest == load_object(graph).digest
    assert [v.name for v in loaded.fgraph.inputs] == ["x", "s"]
    # No temporary file left, and no stack traces (with this file's path) inside.
    assert os.listdir(tmp_path) == ["graph.pkl"]
    assert os.path.basename(__file__).encode() not in path.read_bytes()


def test_dump_accepts_a_single_output_and_freezes_shared(tmp_path):
    x = pt.vector("x")
    w = pytensor.shared(np.arange(3.0), name="w")
    transpile.dump([x], x + w, tmp_path / "g.pkl")
    fgraph = load_file(tmp_path / "g.pkl").fgraph
    assert len(fgraph.inputs) == 1 and len(fgraph.outputs) == 1


def test_dump_refuses_a_bad_graph_and_writes_nothing(tmp_path):
    x = pt.vector("x")
    y = x + 1
    cases = [
        ([x], "not a variable", "outputs must be PyTensor variables"),
        ([], [y], "depend on x which is not among the inputs"),
        ([x], [], "no outputs"),
        ([x, x], [y], "listed twice"),
        ([x, pt.constant(1.0)], [y], "is a constant"),
    ]
    for inputs, outputs, message in cases:
        with pytest.raises(transpile.TranspileError, match=message):
            transpile.dump(inputs, outputs, tmp_path / "g.pkl")
    assert not os.listdir(tmp_path)


# ---- hostile pickles -----------------------------------------------------------------


class Call:
    """Pickles as ``fn(*args)``: what a hostile pickle asks the loader to run."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _global(module: str, name: str, proto: int = 4) -> bytes:
    """A pickle (protocol ``proto``) that loads ``module.name`` and stops."""
    return bytes([0x80, proto]) + f"c{module}\n{name}\n".encode() + b"."


def _call(module: str, name: str, *args) -> bytes:
    """A hand-written pickle: GLOBAL module.name, MARK, args, TUPLE, REDUCE, STOP."""
    body = b"".join(pickle.dumps(a, protocol=2)[2:-1] for a in args)
    return b"\x80\x02" + f"c{module}\n{name}\n".encode() + b"(" + body + b"tR."


def _refused(data: bytes, *fragments: str, allowed=()):
    with pytest.raises(transpile.LoadError) as info:
        load_bytes(data, allowed)
    for fragment in fragments:
        assert fragment in str(info.value)
    return str(info.value)


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "the pickle ran its command"


def test_os_system_is_refused_by_name_without_suggesting_to_trust_it(marker):
    for data in (pickle.dumps(Call(os.system, f"touch {marker}")),
                 _call("os", "system", f"touch {marker}"),
                 _call("posix", "system", f"touch {marker}"),
                 _call("nt", "system", f"touch {marker}")):
        message = _refused(data, "system'", "refusing global")
        assert "--allow-module" not in message


def test_subprocess_and_eval_are_refused(marker):
    _refused(pickle.dumps(Call(subprocess.Popen, ["touch", str(marker)])),
             "'subprocess.Popen'")
    code = f"__import__('os').system('touch {marker}')"
    _refused(pickle.dumps(Call(eval, code)), "'builtins.eval'")
    _refused(pickle.dumps(Call(exec, code)), "'builtins.exec'")
    _refused(_call("builtins", "__import__", "os"), "'builtins.__import__'")
    _refused(_call("__builtin__", "eval", code), "'builtins.eval'")  # Python 2 spelling


def test_names_inside_the_graph_packages_are_only_names():
    """A pickle may mention any PyTensor or NumPy name, but nothing is imported or
    called for it: a name that is not part of a graph is refused where it stands."""
    for data, name in [
        (_global("pytensor.tensor.basic", "np"), "'pytensor.tensor.basic.np'"),
        (_global("numpy", "ctypeslib"), "'numpy.ctypeslib'"),
        (_call("pytensor.configdefaults", "os"), "'pytensor.configdefaults.os'"),
        (_global("pytensor", "utils.subprocess.Popen"), "'pytensor.utils.subprocess.Popen'"),
        (_global("pytensor", "__builtins__"), "'pytensor.__builtins__'"),
        (_global("pytensor.graph.basic", "Variable.__init__.__globals__"), "__globals__"),
        (_call("numpy", "load", "x.npy"), "'numpy.load'"),
        (_call("numpy", "memmap", "x.npy"), "'numpy.memmap'"),
        (_call("numpy.ctypeslib", "load_library", "libc", "/lib"), "load_library"),
        (_global("pytensor.gradient", "verify_grad"), "verify_grad"),
        (_global("pytensor", "function"), "'pytensor.function'"),
    ]:
        _refused(data, name, "not a graph")


def test_a_refused_name_inside_a_graph_is_named(graph):
    """Where a graph has a constant, a pickle that puts a call there is refused by
    the name of what it calls."""
    x = pt.vector("x")
    c = pt.constant(np.zeros(3))
    c.data = Call(np.load, "/etc/passwd")
    data = pickle.dumps(FunctionGraph([x], [x + c], clone=False))
    _refused(data, "'numpy.load'", "not something a graph is made of")


def test_getattr_and_bound_methods_are_never_called(tmp_path):
    out = tmp_path / "written"
    _refused(pickle.dumps(Call(getattr, np.ndarray, "__reduce__")), "builtins.getattr")
    _refused(pickle.dumps(Call(np.zeros(3).tofile, str(out))), "not a graph")
    assert not out.exists()


def test_no_instance_such_as_the_config_can_be_changed():
    cxx = pytensor.config.cxx
    state = pickle.dumps((None, {"cxx": "/tmp/evil"}), protocol=2)[2:-1]
    _refused(_global("pytensor.tensor.basic", "config")[:-1] + state + b"b.",
             "sets attributes")
    assert pytensor.config.cxx == cxx


def test_attributes_of_classes_cannot_be_set():
    state = pickle.dumps((None, {"clone": 1}), protocol=2)[2:-1]
    _refused(_global("pytensor.graph.fg", "FunctionGraph")[:-1] + state + b"b.",
             "sets attributes")
    assert callable(FunctionGraph.clone)


def test_type_cannot_make_classes():
    _refused(_call("builtins", "type", "Evil", (), {}), "builtins.type", "not a graph")


def test_constructors_that_compile_are_never_called(monkeypatch, marker):
    """A pickled compiled Function, or a FunctionMaker the pickle constructs, is
    read as a description: nothing is compiled or called."""
    try:
        from pytensor.compile.function.types import FunctionMaker
    except ImportError:  # PyTensor 3
        from pytensor.compile.maker import FunctionMaker

    def forbidden(*args, **kwargs):
        marker.write_text("compiled")
        raise AssertionError("loading compiled the Function")

    x = pt.vector("x")
    fn = pytensor.function([x], x + 1, mode="FAST_COMPILE")
    data = pickle.dumps(fn)
    monkeypatch.setattr(FunctionMaker, "create", forbidden)
    monkeypatch.setattr(FunctionMaker, "__init__", forbidden)
    assert len(to_fgraph(load_bytes(data)).outputs) == 1
    _refused(pickle.dumps(Call(FunctionMaker, [x], [x + 1])), "FunctionMaker",
             "not a graph")


def test_a_refused_module_is_never_imported():
    assert "this" not in sys.modules  # importing it prints the Zen of Python
    _refused(_global("this", "s"), "'this.s'")
    assert "this" not in sys.modules


def test_an_op_is_rebuilt_from_its_props():
    """What the pickled Op held beyond its props is not what the loaded graph has:
    the loaded Op is the one its class builds."""
    from pytensor.tensor.elemwise import Elemwise

    x = pt.vector("x")
    y = Elemwise(pytensor.scalar.exp)(x)  # not pt.exp: its Op is shared by every graph
    y.owner.op.__dict__["_ufunc"] = "left by an earlier evaluation"
    fgraph = to_fgraph(load_bytes(pickle.dumps(([x], [y]))))
    op = fgraph.outputs[0].owner.op
    assert op is not y.owner.op and op == y.owner.op
    assert op.__dict__.get("_ufunc") != "left by an earlier evaluation"


def test_an_op_carrying_an_attribute_its_class_does_not_build_is_refused():
    from pytensor.tensor.elemwise import Elemwise

    x = pt.vector("x")
    y = Elemwise(pytensor.scalar.exp)(x)
    y.owner.op.c_code_override = "system(...)"
    message = _refused(pickle.dumps(([x], [y])), "c_code_override", "Elemwise")
    assert "node 0" in message


def test_inconsistent_claimed_types_are_refused():
    x = pt.vector("x")
    y = pt.exp(x)
    y.type = pt.TensorType("float64", shape=(None, None))
    _refused(pickle.dumps(([x], [y])), "output 0 is said to be")


# ---- files that are not graphs --------------------------------------------------


def _load_error(path, *fragments):
    with pytest.raises(transpile.TranspileError) as info:
        load_file(path)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


def test_files_that_are_not_graph_pickles(tmp_path, graph):
    text = tmp_path / "model.py"
    text.write_text("import pytensor\n")
    _load_error(text, "not a readable graph pickle")
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    _load_error(empty, "empty file", "empty.pkl")
    data = pickle.dumps(FunctionGraph(*graph, clone=True))
    for cut in (1, 2, len(data) // 3, len(data) // 2, len(data) - 1):
        truncated = tmp_path / "truncated.pkl"
        truncated.write_bytes(data[:cut])
        _load_error(truncated, "not a readable graph pickle")
    _load_error(tmp_path, "is a directory")
    _load_error(tmp_path / "missing.pkl", "no such file", "missing.pkl")


@pytest.mark.parametrize(
    "obj, message",
    [
        (42, "holds an int, not a graph"),
        ({"x": 1}, "holds a dict, not a graph"),
        (None, "holds a NoneType"),
        ("graph", "holds a str"),
        ((1, 2, 3), "holds a tuple"),
    ],
)
def test_pickles_of_other_objects(tmp_path, obj, message):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps(obj))
    error = _load_error(path, message)
    assert isinstance(error, transpile.LoadError)


def test_a_graph_with_no_outputs(tmp_path):
    x = pt.vector("x")
    for obj in ([], ([x], []), FunctionGraph([x], [], clone=True)):
        path = tmp_path / "empty_graph.pkl"
        path.write_bytes(pickle.dumps(obj))
        error = _load_error(path, "no outputs")
        assert isinstance(error, transpile.GraphError)


def test_a_graph_with_a_missing_input():
    x, y = pt.vector("x"), pt.vector("y")
    with pytest.raises(transpile.GraphError, match="depend on y"):
        to_fgraph(([x], [x + y]))


# ---- --allow-module ---------------------------------------------------------------


@pytest.fixture
def custom_pickle():
    from custom_op_demo import times_three

    x = pt.vector("x")
    return pickle.dumps(FunctionGraph([x], [times_three(x)], clone=True))


def test_a_users_op_needs_allow_module(custom_pickle):
    _refused(custom_pickle, "'custom_op_demo.TimesThree'",
             "--allow-module custom_op_demo")
    fgraph = to_fgraph(load_bytes(custom_pickle, ["custom_op_demo"]))
    assert type(fgraph.outputs[0].owner.op).__name__ == "TimesThree"


def test_allow_module_trusts_that_package_only(custom_pickle, marker):
    hostile = pickle.dumps(Call(os.system, f"touch {marker}"))
    _refused(hostile, "posix.system", allowed=["custom_op_demo"])


def test_allow_module_must_be_importable(custom_pickle):
    _refused(custom_pickle, "--allow-module no_such_module_x", "cannot import",
             allowed=["no_such_module_x"])


def test_the_python_api_takes_allow_modules(tmp_path, custom_pickle):
    path = tmp_path / "custom.pkl"
    path.write_bytes(custom_pickle)
    with pytest.raises(transpile.LoadError, match="custom_op_demo.TimesThree"):
        transpile.transpile(path)
    with pytest.raises(transpile.UnsupportedOpError, match="TimesThree"):
        transpile.transpile(path, allow_modules=["custom_op_demo"])


# ---- real graphs load with no flag ------------------------------------------------


def _round_trip_equal(obj, protocol=pickle.HIGHEST_PROTOCOL):
    """The graph loaded from ``obj``'s pickle is the graph ``obj`` is."""
    loaded = to_fgraph(load_bytes(pickle.dumps(obj, protocol=protocol)))
    assert graph_digest(loaded) == graph_digest(to_fgraph(obj))
    return loaded


def test_a_graph_evaluated_before_pickling_loads():
    """Evaluating a reduction caches its NumPy ufunc on the Op (CAReduce._ufunc),
    and an Elemwise its ufunc: such Ops pickle NumPy ufuncs by name."""
    x = pt.vector("x")
    outputs = [pt.maximum.reduce(x) if hasattr(pt.maximum, "reduce") else pt.max(x),
               pt.bitwise_and(pt.cast(x, "int64"), 3).sum(), (x * 2).prod()]
    fn = pytensor.function([x], outputs, mode=Mode(linker="py", optimizer=None))
    fn(np.arange(3.0))
    data = pickle.dumps(([x], outputs))
    assert b"numpy" in data
    _round_trip_equal(([x], outputs))


def _override(inputs, outputs, output_grads):
    return [output_grads[0] * 2, output_grads[0]]


def test_an_op_from_graph_with_a_gradient_override_loads():
    from pytensor.compile.builders import OpFromGraph

    a, b = pt.vector("a"), pt.vector("b")
    ofg = OpFromGraph([a, b], [a * 2 + b], lop_overrides=_override)
    x, y = pt.vector("x"), pt.vector("y")
    data = pickle.dumps(([x, y], [ofg(x, y)]))
    assert b"override" in data
    fgraph = to_fgraph(load_bytes(data))
    assert type(fgraph.outputs[0].owner.op).__name__ == "OpFromGraph"
    module = import_source(transpile.transpile(fgraph))
    np.testing.assert_allclose(module.kernel(np.ones(2), np.arange(2.0)), [2.0, 3.0])


def test_linear_control_solvers_with_their_gradient_functions_load():
    """PyTensor's own OpFromGraph subclasses name their gradient rules as plain
    functions (``_lop_solve_continuous_sylvester``)."""
    from pytensor.tensor import linalg

    a, b, q = pt.matrix("a"), pt.matrix("b"), pt.matrix("q")
    outputs = []
    for fn_name, args in (("solve_sylvester", (a, b, q)),
                          ("solve_discrete_are", (a, b, q, q)),
                          ("solve_continuous_lyapunov", (a, q))):
        fn = getattr(linalg, fn_name, None)
        if fn is not None:
            outputs.append(fn(*args))
    if not outputs:
        pytest.skip("no linear-control solvers in this PyTensor")
    _round_trip_equal(([a, b, q], outputs))


_EXAMPLES = sorted((Path(__file__).parent.parent / "generated_examples").glob("*/graph.pkl"))


def test_there_are_example_graphs():
    assert len(_EXAMPLES) >= 5


@pytest.mark.parametrize("path", _EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_graph_loads_with_no_flag(path):
    """Each committed graph loads with no flag, also under the other PyTensor version
    it was not pickled with; under its own, to the graph PyTensor itself unpickles."""
    if "import pymc" in (path.parent / "build.py").read_text():
        pytest.importorskip("pymc")
    loaded = load_file(path)
    assert loaded.fgraph.outputs
    kernel = (path.parent / "kernel.py").read_text().splitlines()
    pickled_with = next(line.split()[-1] for line in kernel if line.startswith("PyTensor:"))
    if pickled_with == pytensor.__version__:  # else PyTensor's own unpickling fails
        assert graph_digest(to_fgraph(pickle.loads(path.read_bytes()))) == loaded.digest


def _same_structure(a, b) -> None:
    """The same nodes (Ops, wiring, dtypes and ranks) in the same order; static
    lengths may be better known in the loaded graph, whose types PyTensor infers
    anew."""
    from transpile.compat import io_toposort

    def summary(fgraph):
        nodes = io_toposort(fgraph.inputs, fgraph.outputs)
        return [(str(n.op), [(v.type.dtype, getattr(v.type, "ndim", None))
                             for v in n.outputs]) for n in nodes]

    assert summary(a) == summary(b)


def test_every_pymc_zoo_graph_loads_with_no_flag(tmp_path):
    """Each zoo model's logp and dlogp graph, written by ``transpile.dump`` as a PyMC
    user would, loads with no flag as the same graph."""
    pytest.importorskip("pymc")
    from test_pymc_zoo import ZOO

    from transpile.pymc import model_graphs

    for name, build in ZOO.items():
        inputs, logp, dlogp = model_graphs(build())
        transpile.dump(inputs, [logp, dlogp], tmp_path / f"{name}.pkl")
        loaded = load_file(tmp_path / f"{name}.pkl").fgraph
        _same_structure(loaded, to_fgraph((inputs, [logp, dlogp])))


def test_a_compiled_pymc_function_loads_with_no_flag():
    pm = pytest.importorskip("pymc")

    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu, sigma, observed=np.array([0.1, -0.3, 0.5]))
    fn = model.compile_logp(mode=Mode(linker="py", optimizer="fast_compile"))
    data = pickle.dumps(fn.f if hasattr(fn, "f") else fn)
    assert b"pymc" in data
    fgraph = to_fgraph(load_bytes(data))
    assert len(fgraph.outputs) == 1
