"""common.py — helpers shared by zoo entries: a deterministic classifier
training loop (AdamW + one-cycle, seeded shuffling), batched accuracy, flip
augmentation and writing a held-out sample image. No model definitions and
no file layout decisions live here (tools/train.py owns those).
"""

import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def flip_augment(xb, gen):
    """Random horizontal and vertical flips, one decision per batch half."""
    n = xb.shape[0]
    h = torch.rand(n, generator=gen) < 0.5
    v = torch.rand(n, generator=gen) < 0.5
    xb = xb.clone()
    xb[h] = xb[h].flip(-1)
    xb[v] = xb[v].flip(-2)
    return xb


def fit_classifier(model, x, y, epochs, batch, lr, seed, transform=None,
                   augment=None, weight_decay=5e-4, channels_last=True, log=print):
    """Cross-entropy training with AdamW and a one-cycle schedule; the
    shuffling and augmentation use a torch.Generator seeded with seed.
    transform maps a stored batch to network input (e.g. uint8 -> float).
    channels_last is much faster on CPU for 2-D convs; the model is returned
    in the default memory format."""
    if channels_last:
        model.to(memory_format=torch.channels_last)
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    steps = epochs * ((n + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                pct_start=0.2)
    for ep in range(epochs):
        model.train()
        t0, tot, correct, seen = time.time(), 0.0, 0, 0
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            if transform is not None:
                xb = transform(xb)
            if channels_last and xb.dim() == 4:
                xb = xb.contiguous(memory_format=torch.channels_last)
            if augment is not None:
                xb = augment(xb, gen)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
            correct += int((out.argmax(1) == yb).sum())
            seen += len(idx)
        log("epoch %d/%d loss %.4f train_acc %.4f (%.1f s)"
            % (ep + 1, epochs, tot / seen, correct / seen, time.time() - t0))
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    return model


@torch.no_grad()
def predict(model, x, transform=None, batch=500):
    """Logits of model (eval mode) over x, in batches."""
    model.eval()
    outs = []
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        outs.append(model(transform(xb) if transform is not None else xb))
    return torch.cat(outs)


def accuracy(model, x, y, transform=None):
    return float((predict(model, x, transform).argmax(1) == y).float().mean())


def write_png_sample(model, images, labels, x, names, out_dir, file="test.png"):
    """Saves the first held-out image (uint8 (H,W,3)) that model classifies
    right as out_dir/file plus out_dir/test.json naming its expected label."""
    from PIL import Image
    pred = predict(model, x[:64]).argmax(1).numpy()  # x: network inputs
    ok = np.nonzero(pred == labels[:64])[0]
    i = int(ok[0]) if ok.size else 0
    Image.fromarray(images[i]).save(os.path.join(out_dir, file))
    info = {"file": file, "label": names[int(labels[i])], "index": int(labels[i])}
    with open(os.path.join(out_dir, "test.json"), "w") as f:
        json.dump(info, f)
        f.write("\n")
    return info
