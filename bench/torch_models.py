"""torch_models.py — the PyTorch side of convd's side-by-side benchmarks:
builds the nn.Module that a convd model folder was converted from, with the
folder's own weights, so both engines run exactly the same network.

  torchvision_module(arch, seed, size)   random init (fixed seed), batch-norm
                                         statistics calibrated on random images
  folder_module(model_dir)               a zoo model (tools/zoo entry named by
                                         the folder), tiny-demo (make_golden's
                                         TinyDemo) or a converted torchvision
                                         folder (model.json "name" is the arch),
                                         weights loaded from weights.safetensors

Used by bench/compare.py and bench/pyserver/server.py. It never runs convd.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import convert  # noqa: E402
import make_golden  # noqa: E402
import zoo  # noqa: E402


def torchvision_module(arch, seed=0, size=224):
    """torchvision.models.<arch> at random init (seed), with realistic
    batch-norm statistics (make_golden.calibrate_norms at size x size), in
    eval mode: the same module tools/make_golden.py uses for fixtures."""
    m = convert.torchvision_model(arch, seed)
    return make_golden.calibrate_norms(m, seed, size=size).eval()


def _split_multidilated(state, weights):
    """tools/families' MultiDilatedConv keeps one weight per dilation
    (P.weights.i, P.biases.i); its convd lowering stores them concatenated
    along input channels (P.weight) and summed (P.bias). Undoes that."""
    out = dict(weights)
    groups = {}
    for k in state:
        if ".weights." in k:
            p, i = k.rsplit(".weights.", 1)
            groups.setdefault(p, []).append(int(i))
    for p, idx in groups.items():
        if p + ".weight" not in weights:
            continue
        w = torch.from_numpy(np.array(weights[p + ".weight"]))
        parts = torch.chunk(w, len(idx), dim=1)
        for i in sorted(idx):
            out["%s.weights.%d" % (p, i)] = parts[i]
        if p + ".bias" in weights:
            b = torch.from_numpy(np.array(weights[p + ".bias"]))
            for i in sorted(idx):
                out["%s.biases.%d" % (p, i)] = b if i == 0 else torch.zeros_like(b)
    return out


def load_folder_weights(module, model_dir):
    """Loads model_dir/weights.safetensors into module (names are the
    module's state_dict keys). Raises ValueError when a parameter the module
    has is missing from the file."""
    weights, _ = convert.read_safetensors(os.path.join(model_dir, "weights.safetensors"))
    state = module.state_dict()
    weights = _split_multidilated(state, weights)
    new = {}
    for k, v in state.items():
        if k in weights:
            t = weights[k]
            t = t if isinstance(t, torch.Tensor) else torch.from_numpy(np.array(t))
            if tuple(t.shape) != tuple(v.shape):
                raise ValueError("%s: %s has shape %s, the module wants %s"
                                 % (model_dir, k, tuple(t.shape), tuple(v.shape)))
            new[k] = t.to(v.dtype)
        elif k.endswith("num_batches_tracked"):
            new[k] = v
        elif k.endswith(".bias"):
            # a bias the converter dropped because the forward pass does not
            # use it (e.g. shapes-phc); the output agreement check that every
            # caller runs catches a wrong guess
            new[k] = v
        else:
            raise ValueError("%s: weights.safetensors has no %s" % (model_dir, k))
    module.load_state_dict(new, strict=True)
    return module.eval()


def folder_module(model_dir):
    """The PyTorch module for a convd model folder, with its weights."""
    with open(os.path.join(model_dir, "model.json")) as f:
        meta = json.load(f)
    name = meta.get("name", os.path.basename(os.path.normpath(model_dir)))
    torch.manual_seed(0)
    if name in zoo.names():
        module = zoo.get(name).build_model()
    elif name == "tiny-demo":
        module = make_golden.TinyDemo(len(meta.get("labels", [])) or 10)
    else:
        import torchvision
        fn = getattr(torchvision.models, name, None)
        if fn is None:
            raise ValueError("%s: no PyTorch definition for model %r (not a zoo "
                             "entry, tiny-demo or a torchvision arch)" % (model_dir, name))
        n_out = len(meta.get("labels", [])) or 1000
        module = fn(weights=None, num_classes=n_out)
    return load_folder_weights(module, model_dir), meta
