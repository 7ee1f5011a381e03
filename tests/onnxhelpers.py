"""Decoders this project did not write, exported to ONNX the way their authors would, and hostile ONNX
files, for the ONNX family's tests (tests/test_onnx.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

NZ, NGF, NC = 16, 8, 3      # pytorch/examples' dcgan names: noise size, generator width, channels (64 px)


class ExamplesGenerator(nn.Module):
    """pytorch/examples' dcgan/main.py generator (`_netG`), its layer names and all, narrower: z (B, nz, 1, 1)
    -> 64 x 64 pictures in [-1, 1]."""

    def __init__(self, nz: int = NZ, ngf: int = NGF, nc: int = NC):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, x):
        return self.main(x)


class SigmoidDecoder(nn.Module):
    """A course-notebook VAE decoder: z (B, 8) -> 28 x 28 grey pictures through a sigmoid, in [0, 1]."""

    def __init__(self, latent: int = 8):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(latent, 64), nn.ReLU(), nn.Linear(64, 28 * 28), nn.Sigmoid())

    def forward(self, z):
        return self.fc(z).view(-1, 1, 28, 28)


class ClassDecoder(nn.Module):
    """A conditional decoder of someone else's: z (B, 6) and a class number (B,) of 5."""

    def __init__(self, classes: int = 5):
        super().__init__()
        self.embed = nn.Embedding(classes, 4)
        self.fc = nn.Sequential(nn.Linear(10, 28 * 28), nn.Tanh())

    def forward(self, z, y):
        return self.fc(torch.cat([z, self.embed(y)], 1)).view(-1, 1, 28, 28)


def export(module: nn.Module, args: tuple, path: Path, names: list[str], metadata: dict | None = None) -> Path:
    """`torch.onnx.export` as a user would write it (a free batch dimension), plus optional metadata."""
    torch.manual_seed(0)
    module.eval()
    torch.onnx.export(module, args, str(path), input_names=names[:-1], output_names=names[-1:],
                      dynamic_axes={n: {0: "batch"} for n in names}, opset_version=17, dynamo=False)
    if metadata:
        model = onnx.load(str(path))
        for k, v in metadata.items():
            model.metadata_props.add(key=k, value=v)
        onnx.save(model, str(path))
    return path


def examples_dcgan(path: Path) -> tuple[Path, nn.Module]:
    torch.manual_seed(0)
    g = ExamplesGenerator()
    for m in g.modules():      # the example's weights_init
        if isinstance(m, nn.ConvTranspose2d):
            m.weight.data.normal_(0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)
    for m in g.main:          # then wider: pictures that use tanh's range, as a trained generator's do
        if isinstance(m, nn.ConvTranspose2d):
            m.weight.data.mul_(10)
    return export(g, (torch.randn(1, NZ, 1, 1),), path, ["input", "output"]), g


def sigmoid_decoder(path: Path, metadata: dict | None = None) -> tuple[Path, nn.Module]:
    torch.manual_seed(1)
    d = SigmoidDecoder()
    return export(d, (torch.randn(1, 8),), path, ["z", "x"], metadata), d


def class_decoder(path: Path) -> tuple[Path, nn.Module]:
    torch.manual_seed(2)
    d = ClassDecoder()
    return export(d, (torch.randn(1, 6), torch.zeros(1, dtype=torch.long)), path, ["z", "label", "x"]), d


# ---------------------------------------------------------------- hostile and broken files

def graph_file(path: Path, nodes: list, inputs: list, outputs: list, initializers=(), domain: str = "",
               opset: int = 17) -> Path:
    """A hand-built ONNX graph written to `path` (checks skipped: these files are meant to be bad)."""
    g = helper.make_graph(nodes, "hostile", inputs, outputs, list(initializers))
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(g, opset_imports=imports)
    path.write_bytes(model.SerializeToString())
    return path


def latent(dim: int = 4):
    return helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", dim])


def picture(side: int = 8, channels: int = 1):
    return helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", channels, side, side])


def linear_decoder_nodes(dim: int = 4, side: int = 8, channels: int = 1, last: str = "Tanh") -> tuple[list, list]:
    """z (B, dim) -> MatMul -> Reshape -> `last`: a minimal decoder graph (nodes, initializers)."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [dim, channels * side * side],
                           np.random.default_rng(0).normal(size=dim * channels * side * side).astype(np.float32))
    shape = helper.make_tensor("shape", TensorProto.INT64, [4], [-1, channels, side, side])
    nodes = [helper.make_node("MatMul", ["z", "w"], ["h"]), helper.make_node("Reshape", ["h", "shape"], ["r"]),
             helper.make_node(last, ["r"], ["image"])]
    return nodes, [w, shape]


def decoder_file(path: Path, dim: int = 4, side: int = 8, channels: int = 1, last: str = "Tanh") -> Path:
    """A minimal decoder graph (linear_decoder_nodes) written to `path`, its output declared as it is."""
    nodes, inits = linear_decoder_nodes(dim, side, channels, last)
    return graph_file(path, nodes, [latent(dim)], [picture(side, channels)], inits)


def heavy_decoder(path: Path, products: int = 12, side: int = 1024) -> Path:
    """Seconds of work per picture within the size limits: `products` matrix products of side x side matrices
    (side**3 multiply-adds each: 12 of 1024 are 12.9 billion) before a minimal decoder."""
    big = helper.make_tensor("big", TensorProto.INT64, [2], [side, side])
    nodes = [helper.make_node("ConstantOfShape", ["big"], ["c"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.001])),
             helper.make_node("ReduceMean", ["z"], ["zm"], keepdims=0),     # depends on the latent: not folded away
             helper.make_node("Mul", ["c", "zm"], ["t0"])]
    for i in range(products):
        nodes.append(helper.make_node("MatMul", [f"t{i}", "t0"], [f"t{i + 1}"]))
    d_nodes, inits = linear_decoder_nodes()
    nodes += [helper.make_node("ReduceMean", [f"t{products}"], ["m"], keepdims=0)] + d_nodes[:2] + [
        helper.make_node("Add", ["r", "m"], ["s"]), helper.make_node("Tanh", ["s"], ["image"])]
    return graph_file(path, nodes, [latent()], [picture()], inits + [big])
