"""Hostile graph files, built the way an attacker would: a real graph whose objects
are altered before pickling, or pickle bytes written by hand."""

import functools
import pickle
import pickletools
import struct
import sys
import threading

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.fg import FunctionGraph


class Reduce:
    """Pickles as ``fn(*args)``: what a hostile pickle asks the loader to call."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def global_bytes(module: str, name: str, proto: int = 2) -> bytes:
    """A pickle that loads ``module.name`` and stops."""
    return bytes([0x80, proto]) + f"c{module}\n{name}\n".encode() + b"."


def call_bytes(module: str, name: str, *args) -> bytes:
    """A hand-written pickle: GLOBAL module.name, MARK, args, TUPLE, REDUCE, STOP."""
    body = b"".join(pickle.dumps(a, protocol=2)[2:-1] for a in args)
    return b"\x80\x02" + f"c{module}\n{name}\n".encode() + b"(" + body + b"tR."


def dumps(obj) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def graph_bytes(inputs, outputs) -> bytes:
    return dumps(FunctionGraph(list(inputs), list(outputs), clone=False))


def op_of(var):
    return var.owner.op


def nested_tuple_key(depth: int) -> bytes:
    """A dict whose one key is a tuple nested ``depth`` levels deep (hashing it
    recursed in C and crashed the old unpickler)."""
    return (b"\x80\x02}" + b"K\x01" + b"\x85" * depth + b"K\x02s.")


def nested_lists(depth: int) -> bytes:
    """A list nested ``depth`` levels deep, as the sole input list of a graph pair."""
    return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."


def deep_chain(n: int):
    """``x + x + ... + x``: ``n`` add nodes in a chain (built without stack traces,
    which would cost most of the time)."""
    import pytensor

    x = pt.vector("x")
    y = x
    with pytensor.config.change_flags(traceback__limit=0):
        for _ in range(n):
            y = y + x
    return x, y


def deep_dumps(obj, depth_hint: int) -> bytes:
    """Pickle a deep graph: pickle recurses per level, so on a thread with a large
    stack and a raised recursion limit."""
    out = {}

    def work():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, depth_hint * 8 + 1000))
        try:
            out["data"] = dumps(obj)
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(1 << 30)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
    return out["data"]


def array_state_bytes(shape, data: bytes, dtype="f8") -> bytes:
    """A constant-like ndarray pickle whose claimed shape and data need not agree."""
    header = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85"
    header += b"C\x01b\x87R"
    shape_part = pickle.dumps(tuple(shape), protocol=2)[2:-1]
    dt = pickle.dumps(np.dtype(dtype), protocol=2)[2:-1]
    raw = b"C" + bytes([len(data)]) + data if len(data) < 256 else \
        b"T" + struct.pack("<I", len(data)) + data
    return header + b"(K\x01" + shape_part + dt + b"\x89" + raw + b"tb."


@functools.cache
def _plain_bytes(value) -> bytes:
    # optimize() drops the value's own memo writes, which would clobber our slots
    return pickletools.optimize(pickle.dumps(value, protocol=2))[2:-1]


class _Emitter:
    """Pickle opcodes written by hand (protocol 2), with memo slots by name."""

    def __init__(self):
        self.out = [b"\x80\x02"]
        self.slots: dict[str, int] = {}
        self.count = 0

    def plain(self, value) -> "_Emitter":
        self.out.append(_plain_bytes(value))
        return self

    def raw(self, code: bytes) -> "_Emitter":
        self.out.append(code)
        return self

    def put(self, name: str) -> "_Emitter":
        self.slots[name] = self.count
        self.count += 1
        self.out.append(b"r" + struct.pack("<I", self.slots[name]))
        return self

    def get(self, name: str) -> "_Emitter":
        self.out.append(b"j" + struct.pack("<I", self.slots[name]))
        return self

    def new(self, module: str, cls: str) -> "_Emitter":
        self.out.append(f"c{module}\n{cls}\n".encode() + b")\x81")  # EMPTY_TUPLE NEWOBJ
        return self

    def state(self, items: list) -> "_Emitter":
        """BUILD with a dict of ``(key, emit)`` pairs; ``emit`` writes the value."""
        self.out.append(b"}(")
        for key, emit in items:
            self.plain(key)
            emit()
        self.out.append(b"ub")  # SETITEMS, BUILD
        return self

    def bytes(self) -> bytes:
        return b"".join(self.out) + b"."


def chain_pickle(n: int) -> bytes:
    """``([x], [x + x + ... + x])`` with ``n`` adds, written flat (every node defined
    before it is used), so that it costs neither recursion nor time to make."""
    e = _Emitter()
    e.new("pytensor.tensor.type", "TensorType").put("type")
    e.state([("dtype", lambda: e.plain("float64")), ("shape", lambda: e.plain((None,)))])
    e.raw(b"0")
    e.new("pytensor.scalar.basic", "Add").put("add")
    e.state([("name", lambda: e.plain("add")),
             ("output_types_preference",
              lambda: e.raw(b"cpytensor.scalar.basic\nupcast_out\n"))])
    e.raw(b"0")
    e.new("pytensor.tensor.elemwise", "Elemwise").put("op")
    e.state([("scalar_op", lambda: e.get("add")), ("inplace_pattern", lambda: e.raw(b"}"))])
    e.raw(b"0")
    e.new("pytensor.tensor.variable", "TensorVariable").put("v0")
    e.state([("type", lambda: e.get("type")), ("owner", lambda: e.plain(None)),
             ("index", lambda: e.plain(None)), ("name", lambda: e.plain("x"))])
    e.raw(b"0")
    for k in range(1, n + 1):
        e.new("pytensor.tensor.variable", "TensorVariable").put(f"v{k}").raw(b"0")
        e.new("pytensor.graph.basic", "Apply").put(f"a{k}")
        e.state([("op", lambda: e.get("op")),
                  ("inputs", lambda k=k: e.raw(b"](").get(f"v{k - 1}").get("v0").raw(b"e")),
                  ("outputs", lambda k=k: e.raw(b"]").get(f"v{k}").raw(b"a"))])
        e.raw(b"0").get(f"v{k}")
        e.state([("type", lambda: e.get("type")), ("owner", lambda k=k: e.get(f"a{k}")),
                 ("index", lambda: e.plain(0)), ("name", lambda: e.plain(None))])
        e.raw(b"0")
        if k > 1:  # the slots of v{k-2} and a{k-1} are no longer needed by name
            e.slots.pop(f"a{k - 1}")
    e.raw(b"(]").get("v0").raw(b"a]").get(f"v{n}").raw(b"at")
    return e.bytes()
