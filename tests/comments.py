"""Reading the comments of a generated module: one per lowered node, naming its Op;
an Elemwise with reductions accumulated in its loop names them too, over several
lines when long (continued lines indented)::

    # Composite{...} and Sum{axes=None, acc=float64} x4, Max{axes=None} x4,
    #     Prod{axes=None, acc=float64}, in one loop
"""

import io
import re
import tokenize

FUSED = ", in one loop"


def comments(source: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of every comment, continued lines joined to the first."""
    found, last = [], None
    for t in tokenize.generate_tokens(io.StringIO(source).readline):
        if t.type != tokenize.COMMENT:
            continue
        text = t.string[1:]
        if text.startswith(" " * 5) and last == (t.start[0] - 1, t.start[1]):
            line, col, first = found[-1]
            found[-1] = (line, col, f"{first} {text.strip()}")
        else:
            found.append((t.start[0], t.start[1], text.strip()))
        last = t.start
    return found


def _split(text: str) -> list[str]:
    ops = []
    for part in re.split(r", (?![^{]*\})", text):  # commas outside braces
        times = re.fullmatch(r"(.*) x(\d+)", part)
        ops += [times.group(1)] * int(times.group(2)) if times else [part]
    return ops


def loop_parts(text: str) -> tuple[list[str], list[str]]:
    """The Elemwise Ops of a loop's comment, and the reductions accumulated in it
    (``A, B and Sum{axes=None} x2, in one loop``; ``A and B, in one loop`` for two
    Elemwise nodes and no reduction)."""
    if not text.endswith(FUSED):
        return [text], []
    head, tail = text[:-len(FUSED)].split(" and ", 1)
    members, rest = _split(head), _split(tail)
    reductions = [op for op in rest if REDUCTION.match(op)]
    return members + [op for op in rest if not REDUCTION.match(op)], reductions


REDUCTION = re.compile(r"(Sum|Prod|Max|Min|All|Any|CAReduce)\{")


def named_ops(text: str) -> list[str]:
    """The Ops a comment names: one, or the Elemwise nodes of a loop and each
    reduction accumulated in it (``Sum{axes=None} x3`` three times)."""
    members, reductions = loop_parts(text)
    return members + reductions


def fused_reductions(source: str) -> int:
    """How many reductions are accumulated in the loop of the Elemwise feeding them."""
    return sum(len(loop_parts(text)[1]) for _, _, text in comments(source))


def standalone_reductions(source: str) -> list[str]:
    """The comments of reductions lowered in loops of their own."""
    return [text for _, _, text in comments(source)
            if re.match(r"(Sum|Prod|Max|Min|All|Any|CAReduce)\{", text)]
