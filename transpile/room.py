"""Room for deep graphs: run a function in a thread with a large stack.

Graphs are walked without recursion where transpile walks them, but PyTensor's
rewrites, libcst and black recurse over what they are given: a chain of a few
thousand nodes, or the nested expression a fused chain becomes, would exceed Python's
default recursion limit, and raising the limit on the main thread's small stack could
overflow it (a crash, not an error).  So the work runs on a thread whose stack has room
for the higher limit; past it, the error is a clear RecursionError, never a signal.
"""

import sys
import threading

STACK_BYTES = 1 << 30  # virtual: pages are only used as deep as the recursion goes
RECURSION_LIMIT = 100_000


def with_room(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, run on a thread with STACK_BYTES of stack and
    RECURSION_LIMIT; its result is returned and its exception re-raised here."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            outcome["error"] = exc

    old_stack = threading.stack_size(STACK_BYTES)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    try:
        worker = threading.Thread(target=target, name="transpile", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_stack)
    try:
        worker.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"].with_traceback(outcome["error"].__traceback__)
    return outcome.get("value")
