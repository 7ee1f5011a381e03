"""The style-based generator's `generate` exports to ONNX with standard operators only (no custom
domain), for any batch size, and ONNX Runtime draws the same pictures as PyTorch within one grey
level with the fixed noise, truncation included."""
import numpy as np
import pytest
import torch

from explorer.core.data import to_uint8
from explorer.core.models import build

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class Generate(torch.nn.Module):
    """generate(z, y, psi) as a module: what an exported file runs."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def forward(self, z, y, psi):
        return self.generator.generate(z, y, psi=psi)


def trained_looking(cfg: dict):
    G = build("stylegan", cfg)["generator"]
    with torch.no_grad():           # a fresh model has w_avg 0 and no noise: give it both, as training would
        G.mapping.w_avg.normal_()
        for layer in G.synthesis.layers:
            layer.noise_strength.fill_(0.5)
        if cfg.get("num_classes"):
            G.mapping.class_w_sum.normal_()
            G.mapping.class_w_count.fill_(0.5)
    return G.eval()


@pytest.mark.parametrize("cfg,dynamo,opset", [
    ({"image_size": 28, "channels": 1}, False, 17),
    ({"image_size": 16, "channels": 3, "num_classes": 3}, False, 17),
    ({"image_size": 16, "channels": 3, "num_classes": 3}, True, 18),   # torch.export's exporter writes opset 18
])
def test_onnx_runtime_draws_what_pytorch_draws(tmp_path, cfg, dynamo, opset):
    G = trained_looking({"latent_dim": 8, "w_dim": 16, "mapping_layers": 2, "channel_base": 128, "channel_max": 16, **cfg})
    classes = cfg.get("num_classes", 0)
    path = tmp_path / "g.onnx"
    z, y = torch.randn(2, 8), torch.tensor([0, 1])
    inputs = (z, y if classes else None, torch.tensor(0.7))
    names = ["z", "y", "psi"] if classes else ["z", "psi"]
    kw = ({"dynamic_shapes": ({0: torch.export.Dim("batch")}, {0: torch.export.Dim("batch")} if classes else None, None)}
          if dynamo else {"dynamic_axes": {"z": {0: "batch"}, "y": {0: "batch"}, "images": {0: "batch"}}})
    torch.onnx.export(Generate(G).eval(), inputs, str(path), opset_version=opset, dynamo=dynamo,
                      input_names=names, output_names=["images"], **kw)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert {op.domain for op in model.opset_import} == {""} and {n.domain for n in model.graph.node} <= {""}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    z = torch.randn(5, 8)                                                 # another batch size than exported
    y = torch.tensor([2, 0, 1, 1, 2]) % max(classes, 1)
    feed = {"z": z.numpy(), "psi": np.array(0.7, dtype=np.float32)}
    if classes:
        feed["y"] = y.numpy()
    got = torch.from_numpy(session.run(None, feed)[0])
    want = G.generate(z, y if classes else None, psi=0.7)
    assert got.shape == want.shape == (5, cfg["channels"], cfg["image_size"], cfg["image_size"])
    assert (to_uint8(got).int() - to_uint8(want).int()).abs().max() <= 1
