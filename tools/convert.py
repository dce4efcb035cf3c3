#!/usr/bin/python3
"""convert.py — turns a PyTorch nn.Module into a convd model folder
(model.json + weights.safetensors, docs/model-format.md) by tracing it with
torch.fx and mapping every node to a convd op.

It must not guess: a module, function or method it cannot map exactly raises
ConvertError naming the fx node, its target and the module path, and the CLI
exits non-zero with that message. It never runs the daemon or fuses ops (the
loader does that).

This file keeps the model.json assembly, convert() and the CLI; the pieces
live in convd_errors.py (ConvertError), convd_safetensors.py (weights file),
convd_fx_trace.py (torch.fx tracing), convd_fx_ops.py and convd_fx_lowering.py
(fx node -> convd op). It re-exports ConvertError, write_safetensors and
read_safetensors, which other scripts use as convert.<name>.

Usage: tools/convert.py --torchvision NAME --seed S --size H W --out DIR
                        [--num-classes K] [--dtype F32|F16] [--name N]
"""

import argparse
import json
import os
import re
import sys

import torch

from convd_errors import ConvertError
from convd_fx_lowering import _Converter
from convd_fx_trace import _Prop, _trace
from convd_safetensors import _NP_DTYPE, read_safetensors, write_safetensors

__all__ = ["ConvertError", "IMAGENET_MEAN", "IMAGENET_STD", "convert",
           "imagenet_preprocess", "main", "read_safetensors", "torchvision_model",
           "write_safetensors"]

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


# ---------------------------------------------------------------- model folder


def imagenet_preprocess(h, w, resize="shorter_center_crop"):
    """The torchvision evaluation transform: shorter side to round(H*256/224),
    centre crop H x W, ImageNet mean/std."""
    p = {"kind": "image", "size": [int(h), int(w)], "resize": resize}
    if resize == "shorter_center_crop":
        p["resize_to"] = int(round(h * 256 / 224))
    p.update({"color": "rgb", "scale": 255.0, "mean": list(IMAGENET_MEAN),
              "std": list(IMAGENET_STD)})
    return p


def _dump_json(model):
    """model.json: one top-level key per line, one graph node per line."""
    c = lambda v: json.dumps(v, separators=(", ", ": "))  # noqa: E731
    lines = ['  "%s": %s' % (k, c(v)) for k, v in model.items() if k != "graph"]
    nodes = ",\n    ".join(c(nd) for nd in model["graph"])
    lines.append('  "graph": [\n    ' + nodes + "\n  ]")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def convert(module, example_input, out_dir, name=None, task="classification",
            labels=None, preprocess=None, cam_layer=None, dtype="F32"):
    """Converts module (traced with example_input, shape (N, *sample)) into
    out_dir/model.json + out_dir/weights.safetensors. Returns the model.json
    dict. Raises ConvertError for anything convd cannot represent."""
    if not isinstance(example_input, torch.Tensor) or example_input.dim() < 2:
        raise ConvertError("example_input must be a tensor (N, *sample_shape)")
    if dtype not in _NP_DTYPE:
        raise ConvertError("unsupported weight dtype %r (F32 or F16)" % dtype)
    name = name or type(module).__name__.lower()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        raise ConvertError("model name %r: 1-64 chars of [A-Za-z0-9._-]" % name)
    module = module.eval()
    try:
        gm = _trace(module)
    except Exception as e:  # fx raises many kinds (TraceError, TypeError...)
        raise ConvertError("torch.fx could not trace %s: %s"
                           % (type(module).__name__, e)) from e
    x = example_input.detach().to(torch.float32)
    xb = torch.cat([x[:1], x[:1]]) if x.shape[0] == 1 else x  # batch >= 2
    try:
        with torch.no_grad():
            _Prop(gm).run(xb)
    except Exception as e:
        raise ConvertError("running the traced %s on a batch of %d failed: %s"
                           % (type(module).__name__, xb.shape[0], e)) from e
    conv = _Converter(gm, xb.shape[0])
    outs = conv.run("input")
    used = set()
    for nd in conv.nodes:
        used.update(nd.get("weights", {}).values())
    weights = {k: v for k, v in conv.weights.items() if k in used}
    if cam_layer is None:
        pools = [nd for nd in conv.nodes if nd["op"] == "global_avgpool"]
        if pools:
            cam_layer = pools[-1]["inputs"][0]
            if cam_layer == "input":
                cam_layer = None
    elif cam_layer not in conv.used:
        raise ConvertError("cam_layer %r names no value (values: %s...)"
                           % (cam_layer, ", ".join(sorted(conv.used)[:8])))
    model = {"format": "convd-model", "version": 1, "name": name, "task": task,
             "weights": "weights.safetensors"}
    inp = {"name": "input", "shape": [int(d) for d in x.shape[1:]]}
    if preprocess:
        inp["preprocess"] = preprocess
    model["inputs"] = [inp]
    model["outputs"] = [o.name for o in outs]
    if labels is None and task == "classification" and len(outs[0].shape) == 2:
        labels = ["class_%d" % i for i in range(outs[0].shape[1])]
    if labels is not None:
        model["labels"] = [str(s) for s in labels]
    if cam_layer:
        model["cam_layer"] = cam_layer
    model["graph"] = conv.nodes
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "weights.safetensors"), weights, dtype,
                      {"format": "pt", "producer": "convd tools/convert.py"})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        f.write(_dump_json(model))
    return model


def torchvision_model(arch, seed, num_classes=1000):
    """torch.manual_seed(seed), then torchvision.models.<arch>(weights=None)."""
    import torchvision
    fn = getattr(torchvision.models, arch, None)
    if fn is None or not callable(fn):
        raise ConvertError("unknown torchvision model %r" % arch)
    torch.manual_seed(seed)
    return fn(weights=None, num_classes=num_classes).eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description="convert a PyTorch model to convd")
    ap.add_argument("--torchvision", required=True, metavar="NAME")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, nargs=2, default=[224, 224], metavar=("H", "W"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16"])
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    try:
        m = torchvision_model(args.torchvision, args.seed, args.num_classes)
        h, w = args.size
        model = convert(m, torch.zeros(1, 3, h, w), args.out,
                        name=args.name or args.torchvision,
                        preprocess=imagenet_preprocess(h, w), dtype=args.dtype)
    except ConvertError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %d nodes, outputs %s" % (args.out, len(model["graph"]),
                                             model["outputs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
