"""TransNetV2 with every 3D convolution rewritten as 2D convolutions over frames: the same function.

Used only by ``convert_transnetv2.py`` (needs torch). Why: ONNX Runtime runs a 5-D ``Conv`` through a
generic im2col path, once per branch, while a 4-D ``Conv`` gets its blocked NCHWc kernels. Each
DilatedDCNN block of TransNetV2 has four branches of a (1,3,3) convolution followed by a (3,1,1)
convolution dilated 1, 2, 4 or 8 in time. Here the four (1,3,3) convolutions, which read the same
input, are one ``Conv2d`` over frames (batch x time as the batch); each (3,1,1) convolution is a 1x1
``Conv2d`` to its three taps, summed with the frames ``d`` before and after (zeros past the window,
as the original pads); batch normalisation is folded into the taps. The colour histogram counts
with a scatter-add whose size follows the input (the upstream graph fixed it at export length, so
it failed on windows longer than 100 frames).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DDCNN2d(nn.Module):
    """One ``DilatedDCNNV2`` block on (batch * time, C, H, W)."""

    DILATIONS = (1, 2, 4, 8)

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        branches = [block.Conv3D_1, block.Conv3D_2, block.Conv3D_4, block.Conv3D_8]
        w1 = torch.cat([b.layers[0].weight[:, :, 0] for b in branches], 0)  # (4 * 2F, Cin, 3, 3)
        self.spatial = nn.Conv2d(w1.shape[1], w1.shape[0], 3, padding=1, bias=False)
        self.spatial.weight.data.copy_(w1)
        bn = block.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        f = branches[0].layers[1].weight.shape[0]
        taps, biases = [], []
        for j, b in enumerate(branches):
            w2 = b.layers[1].weight[:, :, :, 0, 0]  # (F, 2F, 3): taps at t - d, t, t + d
            s, bias = scale[j * f:(j + 1) * f], shift[j * f:(j + 1) * f]
            if b.layers[1].bias is not None:
                bias = bias + s * b.layers[1].bias
            taps.append(torch.cat([w2[:, :, k] * s[:, None] for k in range(3)], 0))
            biases.append(bias)
        self.taps = nn.Conv2d(w1.shape[0], 12 * f, 1, groups=4, bias=False)
        self.taps.weight.data.copy_(torch.cat(taps, 0)[:, :, None, None])
        self.bias = nn.Parameter(torch.cat(biases, 0)[None, :, None, None])
        self.f = f
        self.relu = block.activation is not None

    def forward(self, x: torch.Tensor, time: int) -> torch.Tensor:
        y = self.taps(self.spatial(x))
        n, _, h, w = y.shape
        y = y.view(-1, time, 4, 3, self.f, h, w)
        outs = []
        for j, d in enumerate(self.DILATIONS):
            before, mid, after = y[:, :, j, 0], y[:, :, j, 1], y[:, :, j, 2]
            zeros = torch.zeros_like(mid[:, :d])
            outs.append(mid + torch.cat([zeros, before[:, :-d]], 1)[:, :time]
                        + torch.cat([after[:, d:], zeros], 1)[:, :time])
        x = torch.cat(outs, 2).reshape(n, 4 * self.f, h, w) + self.bias
        return F.relu(x) if self.relu else x


class Stacked2d(nn.Module):
    def __init__(self, stack: nn.Module) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([DDCNN2d(b) for b in stack.DDCNN])

    def forward(self, x: torch.Tensor, time: int) -> torch.Tensor:
        shortcut = None
        for b in self.blocks:
            x = b(x, time)
            if shortcut is None:
                shortcut = x
        return F.avg_pool2d(F.relu(x) + shortcut, 2)


def _band(sim: torch.Tensor, window: int = 101) -> torch.Tensor:
    """[b, t, k] = sim[b, t, t + k - window // 2], zero outside the input: the +-50-frame lookup."""
    batch, time, _ = sim.shape
    half = (window - 1) // 2
    idx = torch.arange(time)[:, None] + torch.arange(window)[None, :]
    return torch.gather(F.pad(sim, [half, half]), 2, idx[None].expand(batch, time, window))


class TransNetV2as2d(nn.Module):
    """uint8 (batch, time, 27, 48, 3) RGB -> (cut, transition) probabilities, each (batch, time)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.stacks = nn.ModuleList([Stacked2d(s) for s in net.SDDCNN])
        self.frame_sim = net.frame_sim_layer
        self.hist_fc = net.color_hist_layer.fc
        self.fc1, self.cls1, self.cls2 = net.fc1, net.cls_layer1, net.cls_layer2

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, time = frames.shape[0], frames.shape[1]
        x = frames.permute(0, 1, 4, 2, 3).reshape(batch * time, 3, 27, 48).float() / 255.0
        feats = []
        for s in self.stacks:
            x = s(x, time)
            feats.append(x)
        top = x.permute(0, 2, 3, 1).reshape(batch, time, -1)  # H, W, C order, as the original flattens
        pooled = torch.cat([f.mean(dim=[2, 3]) for f in feats], 1).view(batch, time, -1)
        p = F.normalize(self.frame_sim.projection(pooled), p=2, dim=2)
        sim = F.relu(self.frame_sim.fc(_band(torch.bmm(p, p.transpose(1, 2)))))
        q = frames.long() >> 5
        bins = ((q[..., 0] << 6) + (q[..., 1] << 3) + q[..., 2]).view(batch * time, -1)
        flat = (bins + (torch.arange(batch * time) * 512)[:, None]).view(-1)
        hist = torch.zeros(batch * time * 512).scatter_add(0, flat, torch.ones_like(flat, dtype=torch.float32))
        hist = F.normalize(hist.view(batch, time, 512), p=2, dim=2)
        colour = F.relu(self.hist_fc(_band(torch.bmm(hist, hist.transpose(1, 2)))))
        z = F.relu(self.fc1(torch.cat([colour, sim, top], 2)))
        return torch.sigmoid(self.cls1(z)[..., 0]), torch.sigmoid(self.cls2(z)[..., 0])
