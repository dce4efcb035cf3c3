"""convd_errors.py — the one exception type of the convd PyTorch converter
(tools/convert.py and its convd_* helper modules).

It must not hold any conversion logic; it only defines ConvertError so that
every helper raises the same class that callers catch as convert.ConvertError.
"""


class ConvertError(Exception):
    """A model that convd cannot represent exactly; the message says why."""
