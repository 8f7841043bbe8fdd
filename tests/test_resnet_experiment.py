"""The degradation experiment of the ResNet chapter (notebooks/resnet.ipynb), for a fixed seed.

Same settings as the chapter (its exported EXPERIMENT, DEPTHS, N_TRAIN, N_TEST, NUDGE); the
generator is a fresh default_rng(0), so the numbers differ from the page but the qualitative
claims of the page must hold: on training loss, deeper plain nets train worse than shallower
plain nets at several depth pairs while residual nets of the same depths do not; the held-out
loss tells overfitting (residual, deep) from degradation (plain, deep).  Every run is also
checked to be reproducible: a 1e-12 relative change of its initial weights moves no training
loss by 1e-6 (relative), so the figures do not depend on the machine's last bits.
"""
from __future__ import annotations

import numpy as np
import pytest

from nbload import load_notebook

nb = load_notebook("resnet")
DEEP = max(nb.DEPTHS)


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    X, y = nb.make_task(rng, nb.N_TRAIN)
    X_test, y_test = nb.make_task(rng, nb.N_TEST)
    return X, y, X_test, y_test, rng


@pytest.fixture(scope="module")
def runs(task):
    X, y, X_test, y_test, rng = task
    return nb.depth_sweep(X, y, X_test, y_test, nb.DEPTHS, rng, nudge=nb.NUDGE, **nb.EXPERIMENT)


def train_median(runs, name, depth):
    return float(np.median(runs[name][depth]["train"][-1]))


def test_the_chapter_sweeps_at_least_five_depths_including_16_and_32():
    assert len(nb.DEPTHS) >= 5 and 16 in nb.DEPTHS and DEEP >= 32
    assert nb.EXPERIMENT["n_nets"] >= 5


@pytest.mark.parametrize("shallow", [2, 4, 8, 16])
def test_deep_plain_net_trains_worse_than_shallower_plain_nets(runs, shallow):
    assert train_median(runs, "plain", DEEP) > 2 * train_median(runs, "plain", shallow)


@pytest.mark.parametrize("shallow, deep", [(4, 16), (8, 32), (2, 32)])
def test_deeper_residual_net_trains_better_than_shallower_residual_net(runs, shallow, deep):
    assert train_median(runs, "residual", deep) < train_median(runs, "residual", shallow)


@pytest.mark.parametrize("depth, factor", [(16, 1.5), (32, 10)])
def test_residual_net_trains_better_than_plain_net_of_the_same_depth(runs, depth, factor):
    assert factor * train_median(runs, "residual", depth) < train_median(runs, "plain", depth)


def test_held_out_loss_separates_degradation_from_overfitting(runs):
    held_out = {name: {d: float(np.median(runs[name][d]["test"])) for d in nb.DEPTHS} for name in ("plain", "residual")}
    # degradation: the deep plain net is bad on training AND held-out points
    assert held_out["plain"][DEEP] > 2 * min(held_out["plain"].values())
    assert held_out["plain"][DEEP] > 0.5 * train_median(runs, "plain", DEEP)
    # overfitting: the deep residual net trains best, yet is not the best on held-out points
    assert train_median(runs, "residual", DEEP) < train_median(runs, "residual", 8)
    assert held_out["residual"][DEEP] > held_out["residual"][8]
    assert held_out["residual"][DEEP] > 10 * train_median(runs, "residual", DEEP)


@pytest.mark.parametrize("name", ["plain", "residual"])
def test_every_run_of_the_sweep_is_reproducible(runs, name):
    for depth in nb.DEPTHS:
        change = runs[name][depth]["change"]
        assert change.shape == (nb.EXPERIMENT["n_nets"],)
        assert np.all(change < nb.REPRODUCIBLE), (name, depth, change.max())


def test_nudge_change_detects_a_chaotic_run_plain_net_with_bn(task):
    """The check is not blind: with a BN in every unit, the 16-unit plain net is chaotic."""
    X, y, _, _, _ = task
    e = nb.EXPERIMENT
    init = nb.init_params(np.random.default_rng(1), 16, e["width"], n_nets=e["n_nets"])
    for bn, chaotic in ((True, True), (False, False)):
        losses = nb.train(init, X, y, False, 100, e["lr"], e["momentum"], bn)[1]
        change = nb.nudge_change(init, X, y, losses, False, np.random.default_rng(2), nb.NUDGE, 100,
                                 e["lr"], e["momentum"], bn)
        assert (change.max() > 1e-2) == chaotic
        assert (change.max() < nb.REPRODUCIBLE) == (not chaotic)


def test_a_lower_learning_rate_does_not_rescue_the_deep_plain_net(task, runs):
    X, y, _, _, _ = task
    e = nb.EXPERIMENT
    _, losses = nb.train(runs["init"][DEEP], X, y, False, e["steps"], e["lr"] / 3, e["momentum"])
    assert np.median(losses[-1]) > 2 * min(train_median(runs, "plain", d) for d in nb.DEPTHS if d < DEEP)


def test_gradients_at_init_neither_vanish_nor_explode_in_the_plain_net(task):
    X, y, _, _, _ = task
    p = nb.init_params(np.random.default_rng(2), DEEP, nb.EXPERIMENT["width"], n_nets=nb.EXPERIMENT["n_nets"])
    plain = np.median(nb.layer_grad_norms(p, X, y, residual=False), axis=1)
    residual = np.median(nb.layer_grad_norms(p, X, y, residual=True), axis=1)
    assert plain.shape == residual.shape == (DEEP,)
    assert plain.max() / plain.min() < 30  # no exponential decay over 32 units: about 1.1x per unit at most
    assert residual[0] > residual[-1]  # the input side collects every shortcut path


def test_nudge_and_sweep_reject_bad_input(task):
    X, y, X_test, y_test, _ = task
    p = nb.init_params(np.random.default_rng(3), 1, 4, n_nets=2)
    losses = nb.train(p, X[:16], y[:16], True, 3, 0.01)[1]
    with pytest.raises(ValueError):
        nb.nudge_change(p, X[:16], y[:16], losses, True, np.random.default_rng(3), 0, 3, 0.01)
    out = nb.depth_sweep(X[:16], y[:16], X_test, y_test, (1,), np.random.default_rng(3), width=4, n_nets=2,
                         steps=3, lr=0.01)
    assert set(out) == {"init", "plain", "residual"} and "change" not in out["plain"][1]
    assert out["plain"][1]["test"].shape == (2,)


def test_beyond_32_units_the_residual_net_is_chaotic_too(task):
    """Why the sweep stops at 32 units: at 48 units the residual nets' training is no longer reproducible."""
    X, y, _, _, _ = task
    e = nb.EXPERIMENT
    init = nb.init_params(np.random.default_rng(4), 48, e["width"], n_nets=e["n_nets"])
    losses = nb.train(init, X, y, True, e["steps"], e["lr"], e["momentum"])[1]
    change = nb.nudge_change(init, X, y, losses, True, np.random.default_rng(5), nb.NUDGE, e["steps"], e["lr"],
                             e["momentum"])
    assert change.max() > nb.REPRODUCIBLE
