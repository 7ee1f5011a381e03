"""CPU stand-ins for CUDA's stream and graph calls, so the fast path's real code (FastPath's state
machine, GraphedStep's capture and counter fix-ups) runs in tests on a machine without a GPU."""
import contextlib

import torch


class _FakeStream:
    def __init__(self, *a, **k):
        pass

    def wait_stream(self, other):
        pass


def patch_streams(monkeypatch):
    """Stand-ins for the stream calls so FastPath's state machine runs on CPU."""
    monkeypatch.setattr(torch.cuda, "Stream", _FakeStream)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda *a, **k: _FakeStream())
    monkeypatch.setattr(torch.cuda, "stream", lambda s: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a, **k: None)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", torch.backends.cudnn.benchmark)


class CpuGraph:
    """A CPU stand-in for torch.cuda.CUDAGraph, so the real GraphedStep runs on CPU.

    Capture records every aten op with its tensors and then puts back every tensor the ops wrote
    and every generator they drew from (a real capture runs no kernel); replay re-runs the ops on
    the recorded tensors, writing each result into the captured output's memory, as a replay does.
    Python-side effects (the trainer's counters) happen once, at capture, as on CUDA."""
    captures = 0

    def __init__(self):
        self.ops = []

    def register_generator_state(self, gen):
        pass                      # replays pass the same generator objects: fresh draws each time

    def replay(self):
        from torch.utils._pytree import tree_leaves
        with torch._C._AutoDispatchBelowADInplaceOrView():   # kernels only, as a graph holds them
            for func, args, kwargs, out in self.ops:
                res = func(*args, **kwargs)
                for new, old in zip(tree_leaves(res), tree_leaves(out)):
                    if isinstance(new, torch.Tensor) and new.untyped_storage().data_ptr() != old.untyped_storage().data_ptr():
                        old.copy_(new)


class _Capture:
    """Stand-in for `torch.cuda.graph(g, ...)`: records into g, then undoes what the ops did."""

    def __init__(self, graph, **kw):
        from torch.utils._python_dispatch import TorchDispatchMode
        self.graph, self.saved, self.gens = graph, {}, {}
        capture = self

        class Record(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                capture.remember_writes(func, args, kwargs)
                out = func(*args, **kwargs)
                graph.ops.append((func, args, kwargs, out))
                return out
        self.mode = Record()

    def remember_writes(self, func, args, kwargs):
        from torch.utils._pytree import tree_leaves
        schema = func._schema.arguments
        named = [(a, v) for a, v in zip(schema, args)] + [(a, kwargs[a.name]) for a in schema if a.name in kwargs]
        for a, v in named:
            if a.alias_info is not None and a.alias_info.is_write:
                for t in tree_leaves(v):
                    if isinstance(t, torch.Tensor) and id(t) not in self.saved:
                        self.saved[id(t)] = (t, t.detach().clone())
        gen = kwargs.get("generator")
        if gen is not None and id(gen) not in self.gens:
            self.gens[id(gen)] = (gen, gen.get_state())

    def __enter__(self):
        type(self.graph).captures += 1
        self.cpu_rng = torch.get_rng_state()
        self.mode.__enter__()

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)
        with torch.no_grad():
            for t, before in self.saved.values():
                t.copy_(before)
        for gen, state in self.gens.values():
            gen.set_state(state)
        torch.set_rng_state(self.cpu_rng)


def patch_graphs(monkeypatch):
    """Streams and graphs: the real GraphedStep captures and replays on CPU."""
    patch_streams(monkeypatch)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", CpuGraph)
    monkeypatch.setattr(torch.cuda, "graph", _Capture)
    CpuGraph.captures = 0
