"""`python -m explorer.bench latency --quick`: a smoke run against a launched app (no timing asserts)."""
from explorer.bench import latency
from tests.apphelpers import make_checkpoints


def test_latency_quick(tmp_path):
    res = latency(quick=True, model="tiny_gan", checkpoints_dir=make_checkpoints(tmp_path / "ck"))
    assert res["concurrent"]["errors"] == 0 and res["concurrent"]["mismatches"] == 0
    assert res["single_client"]["render"]["n"] == 20 and res["single_client"]["ping"]["median_ms"] > 0
