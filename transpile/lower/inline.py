"""A peephole pass over a loop body: a temporary used once by the next statement is
folded into it (``x[t + 1] = x[t] * a[t] + b[t]``, not a temporary and a store)."""

import libcst as cst

from .. import syntax as sx
from ..walk import mentions


class _Replace(cst.CSTTransformer):
    """Substitute ``value`` for the name ``target``, parenthesized only where the
    surrounding operator needs it."""

    def __init__(self, target: str, value):
        self.target, self.value = target, value
        self.wrapped = None  # the parenthesized copy of value, if one was made

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)

    def leave_Name(self, original, updated):
        if updated.value != self.target:
            return updated
        if sx.precedence(self.value) >= sx._PREC_ATOM:
            return self.value
        self.wrapped = sx.paren(self.value)
        return self.wrapped

    def _fit(self, child, below: int):
        if (child is self.wrapped and child is not None
                and sx.precedence(self.value) >= below):
            return self.value
        return child

    def leave_BinaryOperation(self, original, updated):
        prec = sx.precedence(updated.with_changes(lpar=[], rpar=[]))
        power = isinstance(updated.operator, cst.Power)
        return updated.with_changes(
            left=self._fit(updated.left, prec + 1 if power else prec),
            right=self._fit(updated.right, sx._PREC_UNARY if power else prec + 1))

    def leave_UnaryOperation(self, original, updated):
        not_ = isinstance(updated.operator, cst.Not)
        below = sx._PREC_NOT if not_ else sx._PREC_UNARY
        return updated.with_changes(expression=self._fit(updated.expression, below))

    def leave_BooleanOperation(self, original, updated):
        prec = sx.precedence(updated.with_changes(lpar=[], rpar=[]))
        return updated.with_changes(left=self._fit(updated.left, prec),
                                    right=self._fit(updated.right, prec + 1))

    def leave_Comparison(self, original, updated):
        return updated.with_changes(left=self._fit(updated.left, sx._PREC_CMP + 1))

    def leave_ComparisonTarget(self, original, updated):
        return updated.with_changes(comparator=self._fit(updated.comparator,
                                                         sx._PREC_CMP + 1))

    def leave_IfExp(self, original, updated):
        return updated.with_changes(test=self._fit(updated.test, sx._PREC_IFEXP + 1),
                                    body=self._fit(updated.body, sx._PREC_IFEXP + 1),
                                    orelse=self._fit(updated.orelse, sx._PREC_IFEXP))

    def leave_Assign(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))

    def leave_Arg(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))

    def leave_Index(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))

    def leave_Element(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))


def _single_assign(stmt):
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            return small
    return None


def inline_single_use(body: list) -> list:
    """Fold ``tmp = expr`` into the next statement when that is ``tmp``'s only use:
    ``x[t + 1] = x[t] * a[t] + b[t]`` instead of a temporary and a store."""
    out = list(body)
    k = 0
    while k < len(out) - 1:
        first, second = _single_assign(out[k]), _single_assign(out[k + 1])
        if (first is not None and second is not None
                and isinstance(first.targets[0].target, cst.Name)):
            target = first.targets[0].target.value
            uses = mentions(out, target)
            if uses == 2 and mentions(second.value, target) == 1:
                replace = _Replace(target, first.value)
                value = second.value.visit(replace)
                if value is replace.wrapped:
                    value = first.value
                merged = out[k + 1].with_changes(
                    body=[second.with_changes(value=value)],
                    leading_lines=[*out[k].leading_lines, *out[k + 1].leading_lines])
                out[k:k + 2] = [merged]
                continue
        k += 1
    return out
