"""scnn.py — PyTorch reference of SCNN's spatial message passing (Pan et
al., "Spatial As Deep: Spatial CNN for Traffic Scene Understanding", AAAI
2018), its converter lowering and its GOLDEN case.

SCNNMessagePassing(C, w) holds four bias-free C->C convs, as the original
(Torch7) model and its common PyTorch ports: conv_d, conv_u with kernel
(1, w) and conv_r, conv_l with kernel (w, 1), zero padding w // 2. Passes
run in the order down, up, right, left; in the downward pass row i becomes
x[i] + relu(conv_d(row i-1 already updated)) for i = 1..H-1 (row 0 kept);
up runs bottom to top, right/left over columns. The module is a convd leaf
lowered to one scnn node with weights down, up, right, left. Writes nothing.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module


class SCNNMessagePassing(nn.Module):
    def __init__(self, channels, width=9):
        super().__init__()
        if width % 2 == 0:
            raise ValueError("message width must be odd")
        p = width // 2
        c = channels
        self.conv_d = nn.Conv2d(c, c, (1, width), padding=(0, p), bias=False)
        self.conv_u = nn.Conv2d(c, c, (1, width), padding=(0, p), bias=False)
        self.conv_r = nn.Conv2d(c, c, (width, 1), padding=(p, 0), bias=False)
        self.conv_l = nn.Conv2d(c, c, (width, 1), padding=(p, 0), bias=False)

    @staticmethod
    def _pass(x, conv, dim, reverse):
        s = list(torch.split(x, 1, dim))
        order = range(len(s) - 2, -1, -1) if reverse else range(1, len(s))
        for i in order:
            prev = i + 1 if reverse else i - 1
            s[i] = s[i] + F.relu(conv(s[prev]))
        return torch.cat(s, dim)

    def forward(self, x):
        x = self._pass(x, self.conv_d, 2, False)
        x = self._pass(x, self.conv_u, 2, True)
        x = self._pass(x, self.conv_r, 3, False)
        return self._pass(x, self.conv_l, 3, True)


@register_module(SCNNMessagePassing)
def lower_scnn(cv, n, m):
    w = {slot: cv.weight("%s.%s.weight" % (n.target, name), getattr(m, name).weight)
         for slot, name in (("down", "conv_d"), ("up", "conv_u"),
                            ("right", "conv_r"), ("left", "conv_l"))}
    return cv.emit("scnn", [cv.tensor(n.args[0])], w)


class SCNNNet(nn.Module):
    """Small test net: conv + relu, SCNN message passing (w = 5), 1x1 head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.mp = SCNNMessagePassing(6, 5)
        self.head = nn.Conv2d(6, 4, 1)

    def forward(self, x):
        return self.head(self.mp(F.relu(self.conv(x))))


GOLDEN = [
    ("scnn_message_passing", SCNNNet, (2, 3, 13, 17)),
]
