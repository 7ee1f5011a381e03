"""An ONNX file checked before anything in it runs: ONNX is data, not code, but a hostile file can still
ask ONNX Runtime for a custom operator library, read files beside it, loop forever or allocate
gigabytes. So a file is refused, in one sentence, unless:

  - it is at most MAX_FILE_MB and parses as an ONNX model (protobuf), with its weights inside it (no
    external-data files: those would be read from paths the file names);
  - every operator is a standard one (the default domain; no custom domains, no model-local functions)
    and none is control flow (Loop, Scan, If: a picture decoder needs none, and a loop can run forever);
  - it has at most MAX_NODES operators;
  - with its batch dimension set to 1, ONNX's shape inference knows the shape of every tensor, each
    holds at most MAX_TENSOR elements, all of them together at most MAX_TOTAL, and its convolutions and
    matrix products cost at most MAX_GFLOP billion multiply-adds: so memory and time per picture are
    bounded before it runs (`Graph.elements` sizes the batches it is run with).

What a decoder must look like (`decoder_io`): one float input (batch, latent size), or (batch, latent size,
1, 1) as pytorch/examples' DCGAN takes it; optionally a second
input for the class, integer (batch,) or a one-hot float (batch, classes); one float output (batch, 1 or 3,
side, side).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.core.validation import UserError

MAX_FILE_MB = 200
MAX_NODES = 20_000
MAX_TENSOR = 1 << 24            # elements in one tensor, per picture (64 MB of float32)
MAX_TOTAL = 1 << 26             # elements of all tensors together, per picture (256 MB)
MAX_GFLOP = 20.0                # convolutions and matrix products per picture
STANDARD_DOMAINS = ("", "ai.onnx")
CONTROL_FLOW = ("Loop", "Scan", "If")
FLOAT, INT64, INT32 = 1, 7, 6   # onnx.TensorProto element types


class OnnxRefused(UserError):
    """An ONNX file that is not run; the message says why in one sentence."""


@dataclass
class Graph:
    """What the checks learned: the model, its operators and (after `measure`) its size per picture."""
    model: object                      # onnx.ModelProto
    name: str                          # the file's name, for messages
    nodes: int
    opset: int
    elements: int = 0                  # elements of all tensors for one picture (memory bound)
    gflop: float = 0.0                 # multiply-adds for one picture, billions

    def measure(self) -> "Graph":
        """Work out the sizes per picture (OnnxRefused where one is unknown or over its limit)."""
        self.elements, self.gflop = _sizes(self.model, self.name)
        return self


def read_onnx(path: Path) -> Graph:
    """The model of an ONNX file with its file, operator and node checks passed, or OnnxRefused; its
    sizes are checked by `Graph.measure` (after the caller has checked its inputs and outputs)."""
    import onnx
    from google.protobuf.message import DecodeError
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > MAX_FILE_MB * 2**20:
        raise OnnxRefused(f"{name} is larger than {MAX_FILE_MB} MB.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        raise OnnxRefused(f"{name} is not a valid ONNX file ({type(exc).__name__}).") from None
    graph = model.graph
    if not graph.node or not graph.output:
        raise OnnxRefused(f"{name} is not a valid ONNX file: it holds no graph to run.")
    for t in list(graph.initializer) + [a.t for n in graph.node for a in n.attribute if a.HasField("t")]:
        if t.data_location == onnx.TensorProto.EXTERNAL or t.external_data:
            raise OnnxRefused(f"{name} keeps its weights in external files ({t.name[:60]!r}); only a self-contained "
                              "ONNX file is opened (export it without external data).")
    if model.functions:
        raise OnnxRefused(f"{name} defines its own functions; only standard ONNX operators are run.")
    domains = {o.domain for o in model.opset_import} | {n.domain for n in graph.node}
    custom = sorted(d for d in domains if d not in STANDARD_DOMAINS)
    if custom:
        raise OnnxRefused(f"{name} uses operators of the custom domain {custom[0][:60]!r}; only standard ONNX "
                          "operators are run.")
    control = sorted({n.op_type for n in graph.node} & set(CONTROL_FLOW))
    if control:
        raise OnnxRefused(f"{name} uses control flow ({control[0]}); a picture decoder needs none, so it is not run.")
    if len(graph.node) > MAX_NODES:
        raise OnnxRefused(f"{name} has {len(graph.node)} operators; at most {MAX_NODES} are run.")
    opset = next((o.version for o in model.opset_import if o.domain in STANDARD_DOMAINS), 0)
    return Graph(model, name, len(graph.node), opset)


def _shape(value) -> list[int] | None:
    t = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not t.HasField("shape"):
        return None
    dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    return None if any(d is None for d in dims) else dims


def _sizes(model, name: str) -> tuple[int, float]:
    """(elements of all tensors, billions of multiply-adds) for one picture, from shape inference with
    the batch dimension set to 1; OnnxRefused where a size is unknown or over its limit."""
    import onnx
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for value in probe.graph.input:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_value = 1
    for value in probe.graph.output:
        value.type.tensor_type.ClearField("shape")          # inferred again from the batch of 1
    try:
        inferred = onnx.shape_inference.infer_shapes(probe, data_prop=True)
    except Exception as exc:  # noqa: BLE001 - any failure of ONNX's own checker is a refusal in words
        raise OnnxRefused(f"{name}: ONNX's shape inference fails on it ({type(exc).__name__}: {str(exc)[:120]}).") from None
    init = {t.name for t in inferred.graph.initializer}
    shapes: dict[str, list[int]] = {}
    for value in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        shape = _shape(value)
        if shape is None and value.name not in init:
            raise OnnxRefused(f"{name}: the size of its tensor {value.name[:60]!r} cannot be worked out before running "
                              "it, so it is not run (fixed sizes for everything but the batch are needed).")
        if shape is not None:
            shapes[value.name] = shape
    for node in inferred.graph.node:
        for out in node.output:
            if out and out not in shapes:
                raise OnnxRefused(f"{name}: the size of its tensor {out[:60]!r} cannot be worked out before running it, "
                                  "so it is not run (fixed sizes for everything but the batch are needed).")
    total = 0
    for tensor, shape in shapes.items():
        n = 1
        for d in shape:
            n *= d
        if n > MAX_TENSOR:
            raise OnnxRefused(f"{name}: its tensor {tensor[:60]!r} would hold {n:,} numbers per picture; at most "
                              f"{MAX_TENSOR:,} are allowed.")
        total += n
    if total > MAX_TOTAL:
        raise OnnxRefused(f"{name} would need {total:,} numbers of memory per picture; at most {MAX_TOTAL:,} are allowed.")
    gflop = _gflop(inferred, shapes)
    if gflop > MAX_GFLOP:
        raise OnnxRefused(f"{name} needs about {gflop:.0f} billion multiply-adds per picture; at most {MAX_GFLOP:.0f} are "
                          "allowed.")
    return total, gflop


def _gflop(model, shapes: dict[str, list[int]]) -> float:
    """Multiply-adds of the convolutions and matrix products (the costly operators of a decoder), billions."""
    init = {t.name: list(t.dims) for t in model.graph.initializer}

    def dims(name):
        return shapes.get(name) or init.get(name) or []

    def prod(xs):
        out = 1
        for x in xs:
            out *= x
        return out
    flop = 0
    for n in model.graph.node:
        if n.op_type in ("Conv", "ConvTranspose") and len(n.input) > 1:
            w, y, x = dims(n.input[1]), dims(n.output[0]), dims(n.input[0])
            if n.op_type == "Conv":
                flop += prod(y) * prod(w[1:])                  # each output: C_in/groups * kH * kW
            else:
                flop += prod(x) * prod(w[1:])                  # each input spread over C_out/groups * kH * kW
        elif n.op_type in ("MatMul", "Gemm"):
            a, y = dims(n.input[0]), dims(n.output[0])
            k = a[-1] if a else 1
            if n.op_type == "Gemm":
                trans_a = next((at.i for at in n.attribute if at.name == "transA"), 0)
                k = a[0] if trans_a and a else k
            flop += prod(y) * k
    return flop / 1e9


@dataclass(frozen=True)
class DecoderIO:
    latent: str                        # input name
    latent_dim: int
    fixed_batch: int                   # 0: any batch; else the only batch size the graph takes
    latent_shape: tuple = ()           # the latent input's shape after the batch: (D,) or (D, 1, 1)
    cls: str = ""                      # the class input's name ("" when unconditional)
    one_hot: int = 0                   # the class input is one-hot over this many classes (0: an index)
    output: str = ""


def decoder_io(graph: Graph, name: str) -> DecoderIO:
    """The decoder's inputs and output, or OnnxRefused saying what a decoder must look like."""
    g = graph.model.graph
    init = {t.name for t in g.initializer}
    inputs = [v for v in g.input if v.name not in init]
    shape = "one float input (batch, latent size), optionally a class input, and a picture output (batch, 1 or 3, side, side)"
    if not 1 <= len(inputs) <= 2 or len(g.output) != 1:
        raise OnnxRefused(f"{name} has {len(inputs)} inputs and {len(g.output)} outputs; a decoder has {shape}.")
    z = inputs[0]
    dims = z.type.tensor_type.shape.dim
    rest = [d.dim_value if d.HasField("dim_value") else 0 for d in dims[1:]]
    if z.type.tensor_type.elem_type != FLOAT or not rest or rest[0] < 1 or rest[1:] not in ([], [1, 1]):
        raise OnnxRefused(f"{name}'s first input {z.name[:40]!r} is not (batch, latent size) float32; a decoder has {shape}.")
    batch = dims[0].dim_value if dims[0].HasField("dim_value") else 0
    io = dict(latent=z.name, latent_dim=rest[0], fixed_batch=batch, latent_shape=tuple(rest), output=g.output[0].name)
    if len(inputs) == 2:
        c = inputs[1]
        t, cd = c.type.tensor_type.elem_type, c.type.tensor_type.shape.dim
        if t in (INT64, INT32) and len(cd) == 1:
            io["cls"] = c.name
        elif t == FLOAT and len(cd) == 2 and cd[1].HasField("dim_value") and cd[1].dim_value >= 2:
            io.update(cls=c.name, one_hot=cd[1].dim_value)
        else:
            raise OnnxRefused(f"{name}'s second input {c.name[:40]!r} is neither class numbers (batch,) nor one-hot "
                              "classes (batch, classes).")
    return DecoderIO(**io)
