"""nn.Modules only. `build(kind, config)` turns a model kind and its config dict into modules.

Kinds and the modules they consist of:
    dcgan       {"generator": Generator, "discriminator": Discriminator}
    stylegan    {"generator": stylegan.Generator, "generator_live": stylegan.Generator,
                 "discriminator": stylegan.Discriminator}: "generator" is the moving average of the
                 weights the trainer samples and saves, "generator_live" the one it trains (a file
                 may leave it out: loading builds only what the file names)
    vae         {"vae": ConvVAE}
    toy_gan     {"generator": ToyGenerator, "discriminator": ToyDiscriminator}
    classifier  {"classifier": Classifier}
    encoder     {"encoder": Encoder}     (image -> z for a GAN generator, stored beside it)
"""
from __future__ import annotations

from dataclasses import fields

import torch
from torch import nn

from explorer.core.models.classifier import Classifier, ClassifierConfig
from explorer.core.models.dcgan import DCGANConfig, Discriminator, Generator
from explorer.core.models.encoder import Encoder, EncoderConfig
from explorer.core.models.limits import check_parameter_count
from explorer.core.models.stylegan import StyleGANConfig
from explorer.core.models.stylegan import Discriminator as StyleDiscriminator
from explorer.core.models.stylegan import Generator as StyleGenerator
from explorer.core.models.toy import ToyDiscriminator, ToyGANConfig, ToyGenerator
from explorer.core.models.vae import ConvVAE, VAEConfig
from explorer.core.validation import UserError

CONFIGS = {"dcgan": DCGANConfig, "vae": VAEConfig, "toy_gan": ToyGANConfig, "classifier": ClassifierConfig,
           "encoder": EncoderConfig, "stylegan": StyleGANConfig}
KINDS = tuple(CONFIGS)
LAYOUT_KINDS = ("dcgan", "vae", "classifier", "encoder")   # convolutional: their blocks follow models/layout.py


def config_from_checkpoint(kind: str, values):
    """A checkpoint's config dict as `build` should read it. Files written before layouts existed
    (every one of them 28 px) name none: they were built in the classic layout, and stay so."""
    if kind in LAYOUT_KINDS and isinstance(values, dict) and "layout" not in values:
        return {**values, "layout": "classic"}
    return values


def make_config(kind: str, values: dict | None = None):
    """A config dataclass for `kind` from a dict; unknown keys are an error, not silently dropped.
    Every size is checked against models/limits.py here, before anything is built."""
    if kind not in CONFIGS:
        raise UserError(f"Unknown model kind {kind!r}; known kinds: {', '.join(KINDS)}.")
    cls = CONFIGS[kind]
    if values is not None and not isinstance(values, dict):
        raise UserError(f"A {kind} configuration must be a set of named settings, got {type(values).__name__}.")
    values = dict(values or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"Unknown {kind} setting(s) {unknown}; known: {sorted(known)}.")
    return cls(**values)


def build(kind: str, config=None) -> dict[str, nn.Module]:
    """Modules of a model kind, freshly initialised. `config` is a config dataclass or a dict.
    The parameter count is checked first on the "meta" device, where building allocates nothing."""
    cfg = config if isinstance(config, CONFIGS.get(kind, ())) else make_config(kind, config)
    with torch.device("meta"), _NoRandomFill():
        shapes = _build(kind, cfg)
    check_parameter_count(kind, sum(p.numel() for m in shapes.values() for p in m.parameters()))
    return _build(kind, cfg)


class _NoRandomFill(torch.overrides.TorchFunctionMode):
    """Skips `normal_` (nn.init's and Tensor's) while modules are built on the meta device only to
    count their parameters: there is nothing to fill there, and PyTorch's meta `normal_` (Python,
    torch._refs) imports torch._dynamo, seconds a training run would wait for before its first step."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.nn.init.normal_, torch.Tensor.normal_):
            tensor = args[0] if args else kwargs.get("tensor")
            if torch.is_tensor(tensor) and tensor.is_meta:
                return tensor
        return func(*args, **kwargs)


def _build(kind: str, cfg) -> dict[str, nn.Module]:
    if kind == "dcgan":
        return {"generator": Generator(cfg), "discriminator": Discriminator(cfg)}
    if kind == "vae":
        return {"vae": ConvVAE(cfg)}
    if kind == "stylegan":
        return {"generator": StyleGenerator(cfg), "generator_live": StyleGenerator(cfg),
                "discriminator": StyleDiscriminator(cfg)}
    if kind == "toy_gan":
        return {"generator": ToyGenerator(cfg), "discriminator": ToyDiscriminator(cfg)}
    if kind == "encoder":
        return {"encoder": Encoder(cfg)}
    return {"classifier": Classifier(cfg)}


__all__ = [
    "KINDS", "CONFIGS", "LAYOUT_KINDS", "build", "make_config", "config_from_checkpoint", "decoder_of",
    "DCGANConfig", "Generator", "Discriminator", "VAEConfig", "ConvVAE",
    "ToyGANConfig", "ToyGenerator", "ToyDiscriminator", "ClassifierConfig", "Classifier",
    "EncoderConfig", "Encoder", "StyleGANConfig", "StyleGenerator", "StyleDiscriminator",
]


def decoder_of(modules: dict[str, nn.Module]) -> nn.Module:
    """The module whose `generate(z)` turns latents into images in [0, 1] (GAN generator or VAE)."""
    for name in ("generator", "vae"):
        if name in modules and hasattr(modules[name], "generate"):
            return modules[name]
    raise UserError("This model has no image decoder (it is a classifier or a 2-D toy GAN).")
