"""A model family's decoder as one nn.Module, for exporters (ONNX) that trace modules."""
from __future__ import annotations

from torch import nn


class DecoderModule(nn.Module):
    def __init__(self, family):
        super().__init__()
        self.family = family
        self.holder = nn.ModuleList(family.modules.values())     # its weights, for the exporter to find

    def forward(self, z, y=None):
        return self.family.decode_with_grad(z, y)                # (B, D) [+ (B,)] -> (B, C, H, W) in [0, 1]
