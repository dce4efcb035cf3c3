"""zoo — the registry of convd's trained models. Each entry is a module
tools/zoo/<name with - as _>.py exposing:

  NAME, FAMILY, TASK, LABELS, PREPROCESS   metadata for model.json / README
  build_model() -> nn.Module                 (called after torch.manual_seed)
  data(seed, quick) -> dict                  regenerated, never downloaded
  train(model, data, seed, quick, log)       returns the trained model
  evaluate(model, data) -> {"metric", "value"}  held-out quality
  held_out(data) -> (x, y)                   network inputs for the agreement check
  write_sample(model, data, out_dir) -> {"file", "label", ...}

tools/train.py drives them; this package only finds them.
"""

import importlib
import pkgutil

_SKIP = {"common", "shapes_common"}


def names():
    """Registered model names (module names with _ spelled -), sorted."""
    out = []
    for m in pkgutil.iter_modules(__path__):
        if m.name not in _SKIP and not m.name.startswith("_"):
            out.append(m.name.replace("_", "-"))
    return sorted(out)


def get(name):
    """The entry module for model name (e.g. "shapes-resnet"); KeyError if
    there is none."""
    if name not in names():
        raise KeyError("no zoo model %r (known: %s)" % (name, ", ".join(names())))
    return importlib.import_module("zoo." + name.replace("-", "_"))
