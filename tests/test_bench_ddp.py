"""`python -m explorer.bench ddp --quick`: one process and two (gloo, launched as torchrun would),
every row present and consistent (no timing thresholds: speed is the bench's output)."""
import json
import math

import pytest
import torch

from explorer.cli.bench.ddp import ddp_bench, print_ddp


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU run's report")
def test_bench_ddp_reports_one_and_two_processes_and_their_scaling(capsys):
    res = ddp_bench(quick=True, kinds=("vae",))
    assert json.loads(json.dumps(res)) == res
    assert res["machine"]["backend"] == "gloo" and res["processes"] == 2
    row = res["vae"]
    one, two, threads = row["one_process"], row["2_processes"], row["one_process_2_threads"]
    for r, procs, n_threads in ((one, 1, 1), (two, 2, 1), (threads, 1, 2)):
        assert "error" not in r, r
        assert r["processes"] == procs and r["threads"] == n_threads
        assert r["global_batch"] == r["batch_per_process"] * procs
        assert math.isfinite(r["steps_per_s"]) and r["steps_per_s"] > 0
        assert math.isclose(r["pictures_per_s"], r["steps_per_s"] * r["global_batch"], rel_tol=1e-9)
    assert math.isclose(row["scaling_efficiency"], two["pictures_per_s"] / (2 * one["pictures_per_s"]))
    print_ddp(res)
    assert "scaling efficiency" in capsys.readouterr().out
