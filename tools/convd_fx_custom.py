"""convd_fx_custom.py — the registry through which layer families outside
torch.nn (PHC, quaternion, DCLS, Haar DWT, ...) plug into the converter.

A family module under tools/families/ defines its PyTorch reference layer and
registers how to lower it:

    @register_module(PHConv2d)
    def lower_phc(cv, n, m):        # cv: the converter, n: fx node, m: module
        return cv.emit("phc_conv", [cv.tensor(n.args[0])], weights=..., attrs=...)

Registered classes are traced as leaves (their forward is not inlined). This
file holds the registry only: no lowering logic, no file writing.
"""

CUSTOM_MODULES = {}


def register_module(cls):
    """Decorator: lower instances of cls with the decorated function."""
    def deco(fn):
        CUSTOM_MODULES[cls] = fn
        return fn
    return deco


def custom_lowering(m):
    """The lowering function for module m, or None."""
    for cls in type(m).__mro__:
        fn = CUSTOM_MODULES.get(cls)
        if fn is not None:
            return fn
    return None
