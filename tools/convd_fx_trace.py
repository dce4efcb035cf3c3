"""convd_fx_trace.py — traces a PyTorch module with torch.fx for the convd
converter: a tracer that keeps torchvision's StochasticDepth and LayerNorm2d
as leaves, and an interpreter pass that records each node's result shape
(n.meta["cd_shape"], "cd_shapes" or "cd_const").

It must not map nodes to convd ops or write files (convd_fx_lowering.py and
convert.py do); it only produces the traced, shape-annotated GraphModule.
"""

import torch
import torch.fx as fx
import torch.nn as nn

from convd_fx_custom import custom_lowering


def _is_stochastic_depth(m):
    return type(m).__name__ == "StochasticDepth"


def _is_layernorm2d(m):
    return (type(m).__name__ == "LayerNorm2d" and isinstance(m, nn.LayerNorm)
            and type(m).__module__.startswith("torchvision")
            and len(m.normalized_shape) == 1)


class _Tracer(fx.Tracer):
    """Standard leaves plus torchvision's StochasticDepth and LayerNorm2d."""

    def is_leaf_module(self, m, qualname):
        if _is_stochastic_depth(m) or _is_layernorm2d(m) or custom_lowering(m):
            return True
        return super().is_leaf_module(m, qualname)


class _Prop(fx.Interpreter):
    """Runs the traced module once and records each node's result kind:
    'cd_shape' (tuple) for tensors, 'cd_shapes' for tuples of tensors,
    'cd_const' for anything else (sizes, ints)."""

    def run_node(self, n):
        r = super().run_node(n)
        if isinstance(r, torch.Tensor):
            n.meta["cd_shape"] = tuple(int(d) for d in r.shape)
        elif isinstance(r, (tuple, list)) and r and all(
                isinstance(t, torch.Tensor) for t in r):
            n.meta["cd_shapes"] = [tuple(int(d) for d in t.shape) for t in r]
        else:
            n.meta["cd_const"] = r
        return r



def _trace(module):
    tracer = _Tracer()
    graph = tracer.trace(module)
    return fx.GraphModule(tracer.root, graph)


def _get_attr(root, target):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj

