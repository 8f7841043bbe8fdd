"""The degradation experiment of the ResNet chapter (notebooks/resnet.ipynb), for a fixed seed.

Same settings as the chapter (its exported EXPERIMENT, N_TRAIN and NUDGE); the generator is a fresh
default_rng(0), so the numbers differ from the page but the claims must hold.  Deep plain nets
train chaotically (a 1e-12 change of the initial weights changes their final loss by tens of
percent), so their claims use wide margins only: 10x between medians of the four
initializations, or a floor of 0.01 that their medians stay far above (about 0.04 at least over
many reruns).  The shallower runs and all residual runs are reproducible, which is checked too.
"""
from __future__ import annotations

import numpy as np
import pytest

from nbload import load_notebook

nb = load_notebook("resnet")


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    X, y = nb.make_task(rng, nb.N_TRAIN)
    return X, y, rng


@pytest.fixture(scope="module")
def runs(task):
    X, y, rng = task
    return nb.depth_sweep(X, y, (8, 32), rng, nudge=nb.NUDGE, **nb.EXPERIMENT)


@pytest.fixture(scope="module")
def sweep(runs):
    return {name: {depth: losses[-1] for depth, losses in runs[name].items()} for name in ("plain", "residual")}


def test_deep_plain_net_trains_worse_than_shallow_plain_net(sweep):
    assert np.median(sweep["plain"][32]) > 10 * np.median(sweep["plain"][8])


def test_deep_plain_net_median_stays_above_the_chapter_floor(sweep):
    assert np.median(sweep["plain"][32]) > 0.01


def test_deep_residual_net_does_not_train_worse_than_shallow_residual_net(sweep):
    assert np.median(sweep["residual"][32]) <= np.median(sweep["residual"][8])


def test_residual_net_beats_plain_net_at_depth_32(sweep):
    assert 10 * np.median(sweep["residual"][32]) < np.median(sweep["plain"][32])


def test_only_the_deep_plain_net_is_sensitive_to_a_tiny_change_of_its_initial_weights(runs):
    change = runs["change"]
    assert change["plain"][8].shape == (nb.EXPERIMENT["n_nets"],)
    assert np.all(change["plain"][8] < nb.REPRODUCIBLE)
    assert np.all(change["residual"][8] < nb.REPRODUCIBLE)
    assert np.all(change["residual"][32] < nb.REPRODUCIBLE)
    assert change["plain"][32].max() > 1e-2


def test_depth_sweep_without_nudge_has_no_change_entry_and_rejects_a_bad_nudge(task):
    X, y, _ = task
    out = nb.depth_sweep(X[:16], y[:16], (1,), np.random.default_rng(3), width=4, n_nets=2, steps=3, lr=0.01)
    assert set(out) == {"plain", "residual"}
    with pytest.raises(ValueError):
        nb.depth_sweep(X[:16], y[:16], (1,), np.random.default_rng(3), width=4, n_nets=2, steps=3, lr=0.01, nudge=0)


def test_lower_learning_rates_do_not_rescue_the_deep_plain_net(task, sweep):
    X, y, _ = task
    init = nb.init_params(np.random.default_rng(1), 32, nb.EXPERIMENT["width"], n_nets=nb.EXPERIMENT["n_nets"])
    for lr in (0.01, 0.003):
        _, losses = nb.train(init, X, y, residual=False, steps=nb.EXPERIMENT["steps"], lr=lr)
        assert np.median(losses[-1]) > 10 * np.median(sweep["plain"][8])


def test_gradients_at_init_spread_over_depth_in_plain_but_not_in_residual_net(task):
    X, y, _ = task
    p = nb.init_params(np.random.default_rng(2), 32, nb.EXPERIMENT["width"], n_nets=nb.EXPERIMENT["n_nets"])
    plain = np.median(nb.layer_grad_norms(p, X, y, residual=False), axis=1)
    residual = np.median(nb.layer_grad_norms(p, X, y, residual=True), axis=1)
    assert plain.shape == residual.shape == (32,)
    assert plain[0] / plain[-1] > 30  # grows towards the input: exploding, not vanishing
    assert residual.max() / residual.min() < 30
