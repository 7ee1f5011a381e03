"""A model of a PyTorch family written as ONNX: its decoder, and its encoder where it has one.

The decoder file takes `z` (batch, latent size) float32 [and `class` (batch,) int64 for a class-conditional
model] and gives `image` (batch, channels, side, side) in [0, 1]. The encoder file (`OUT-encoder.onnx`, the
name an ONNX decoder's encoder is looked for under) takes `image` [and `class`] and gives `z`: a VAE's
posterior mean, or a GAN's learned encoder's guess. Both carry the model card's facts in their metadata
(`metadata_props`), so the app opens them as they were: title, description, dataset, class names, the
number of classes, the output range, the latent prior, the training command and the evaluation figures.
Written with PyTorch's TorchScript-based exporter (opset 17), a batch dimension free.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from explorer.core.families import Family

OPSET = 17


class _Encoder(nn.Module):
    def __init__(self, encode, modules):
        super().__init__()
        self.encode, self.holder = encode, nn.ModuleList(modules)

    def forward(self, x, y=None):
        return self.encode(x, y)                                 # (B, C, H, W) [+ (B,)] -> (B, D)


def card_facts(meta: dict, family: Family) -> dict[str, str]:
    """The model card's facts as ONNX metadata (strings only)."""
    ds = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}
    facts = {"exported_by": "Latent Explorer", "family": family.kind, "latent_dim": str(family.latent_dim),
             "latent_prior": "normal(0, 1) per number", "output_range": "0,1", "num_classes": str(family.num_classes),
             "class_names": json.dumps(list(family.class_names)[:family.num_classes or None]),
             "dataset": str(ds.get("name", "")), "title": str(meta.get("title", "")),
             "description": str(meta.get("description", "")), "command": str(meta.get("command", ""))}
    if isinstance(ds.get("attribution"), str):
        facts["attribution"] = ds["attribution"]
    if isinstance(meta.get("evaluation"), dict):
        facts["evaluation"] = json.dumps(meta["evaluation"], sort_keys=True)
    return {k: v for k, v in facts.items() if v}


def _write(module: nn.Module, args: tuple, names: list[str], out: Path, facts: dict[str, str]) -> Path:
    import onnx
    dynamic = {n: {0: "batch"} for n in names}
    torch.onnx.export(module.eval(), args, str(out), input_names=names[:-1], output_names=names[-1:],
                      dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
    model = onnx.load(str(out))
    for key, value in facts.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(out))
    return out


def export_decoder(family: Family, meta: dict, out: Path) -> Path:
    """The family's decoder as `out` (.onnx)."""
    module, size = family.onnx_decoder()
    z = torch.zeros(2, size, device=family.device)
    args, names = ((z, torch.zeros(2, dtype=torch.long, device=family.device)), ["z", "class", "image"]) \
        if family.num_classes else ((z,), ["z", "image"])
    facts = dict(card_facts(meta, family), latent_dim=str(size))
    with torch.no_grad():
        return _write(module, args, names, Path(out), facts)


def export_encoder(encode, modules, family: Family, meta: dict, out: Path) -> Path:
    """An encoder `encode(x[, y]) -> z` of the family's pictures as `out` (.onnx)."""
    x = torch.zeros(2, family.channels, family.image_size, family.image_size, device=family.device)
    args, names = ((x, torch.zeros(2, dtype=torch.long, device=family.device)), ["image", "class", "z"]) \
        if family.num_classes and family.inversion == "encode" else ((x,), ["image", "z"])
    facts = dict(card_facts(meta, family), role="encoder")
    with torch.no_grad():
        return _write(_Encoder(encode, modules), args, names, Path(out), facts)
