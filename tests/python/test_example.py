"""The ESP story of examples/python/surrogate_prescriptions.py, small: prescriptors
evolved against a scikit-learn predictor beat every baseline policy on the true
simulator."""
import os

import surrogate_prescriptions as example


def test_the_evolved_front_dominates_every_baseline_on_the_true_simulator(client, artifacts):
    out = os.path.join(artifacts, "surrogate-prescriptions")
    summary = example.run(client, "example", generations=30, population=40, workers=2, out=out)
    assert summary["generations"] == 30
    assert {b["name"] for b in summary["baselines"]} == {"historical", "random", "fixed 0.25", "fixed 0.5",
                                                         "fixed 0.75"}
    undominated = [name for name, by in summary["dominated_by"].items() if by is None]
    assert not undominated, summary
    assert len(summary["front"]) >= 3  # a trade-off, not one policy
    assert os.path.getsize(os.path.join(out, "front.png")) > 10_000
    assert os.path.exists(os.path.join(out, "training", "stats.csv"))
