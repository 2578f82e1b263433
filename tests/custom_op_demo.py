"""A user's own Op, as a package outside PyTensor would define it.

Used by test_load (a pickle that names it is refused unless ``--allow-module
custom_op_demo``) and test_cli (``--plugin custom_op_plugin`` registers its lowering).
"""

import numpy as np
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor import as_tensor_variable


class TimesThree(Op):
    """``3 * x``, elementwise, for a float64 tensor."""

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        outputs[0][0] = np.asarray(x * 3, dtype=node.outputs[0].type.dtype)


times_three = TimesThree()
