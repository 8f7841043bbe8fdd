"""Invariance properties of Ba, Kiros & Hinton (2016), sec. 5.1 and Table 1, checked on the
notebook's own functions.  The expected answers come from the derivations (eqs. 6-7) and
from Table 1 of the paper, transcribed here independently of the notebook."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbload import load_notebook

nb = load_notebook("layer_norm")

FAST = settings(max_examples=30, deadline=None, derandomize=True)
seeds = st.integers(0, 2**32 - 1)
positive = st.floats(0.1, 10.0)

# Ba, Kiros & Hinton (2016), Table 1 (True = "Invariant", False = "No"), columns in the
# paper's order: weight matrix re-scaling, weight matrix re-centering, weight vector
# re-scaling, dataset re-scaling, dataset re-centering, single training case re-scaling.
TABLE_1 = {
    "Batch norm": (True, False, True, True, True, False),
    "Weight norm": (True, False, True, False, False, False),
    "Layer norm": (True, True, False, True, False, True),
}


def data(seed, n=16, d=7, H=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(H, d)), rng


def same(method, X, W, X2, W2, **kw):
    return np.allclose(nb.normalized_summed_inputs(X2, W2, method, **kw),
                       nb.normalized_summed_inputs(X, W, method, **kw), rtol=1e-9, atol=1e-9)


@FAST
@given(seed=seeds, delta=positive)
def test_layer_norm_is_invariant_to_scaling_and_shifting_the_whole_weight_matrix(seed, delta):
    X, W, rng = data(seed)
    gamma = rng.normal(size=W.shape[1])
    W2 = delta * W + np.outer(np.ones(W.shape[0]), gamma)        # W' = delta W + 1 gamma^T (eq. 6)
    assert same("layer", X, W, X, W2)


@FAST
@given(seed=seeds)
def test_layer_norm_is_invariant_to_rescaling_single_training_cases(seed):
    X, W, rng = data(seed)
    deltas = rng.uniform(0.1, 10.0, size=(X.shape[0], 1))          # eq. 7, one delta per case
    assert same("layer", X, W, deltas * X, W)


@FAST
@given(seed=seeds)
def test_batch_norm_is_invariant_to_per_unit_weight_scaling_and_to_shifting_the_data(seed):
    X, W, rng = data(seed)
    assert same("batch", X, W, X, rng.uniform(0.1, 10.0, size=(W.shape[0], 1)) * W)
    assert same("batch", X, W, X + rng.normal(size=X.shape[1]), W)


@FAST
@given(seed=seeds)
def test_weight_norm_ignores_per_unit_weight_scaling_but_not_data_scaling(seed):
    X, W, rng = data(seed)
    assert same("weight", X, W, X, rng.uniform(0.1, 10.0, size=(W.shape[0], 1)) * W)
    assert not same("weight", X, W, 3.0 * X, W)


@FAST
@given(seed=seeds)
def test_layer_norm_is_not_invariant_to_per_unit_weight_scaling_or_shifting_the_data(seed):
    X, W, rng = data(seed)
    assert not same("layer", X, W, X, rng.uniform(0.1, 10.0, size=(W.shape[0], 1)) * W)
    assert not same("layer", X, W, X + rng.normal(size=X.shape[1]), W)


@FAST
@given(seed=seeds)
def test_batch_norm_is_not_invariant_to_rescaling_single_cases_or_recentering_weights(seed):
    X, W, rng = data(seed)
    assert not same("batch", X, W, rng.uniform(0.1, 10.0, size=(X.shape[0], 1)) * X, W)
    assert not same("batch", X, W, X, W + rng.normal(size=W.shape[1]))


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=seeds)
def test_invariance_table_reproduces_table_1_of_ba_kiros_hinton(seed):
    X, W, rng = data(seed, n=24, d=9, H=10)
    table = nb.invariance_table(X, W, rng)
    assert list(next(iter(table.values()))) == [
        "Weight matrix re-scaling", "Weight matrix re-centering", "Weight vector re-scaling",
        "Dataset re-scaling", "Dataset re-centering", "Single training case re-scaling"]
    assert {row: tuple(cells.values()) for row, cells in table.items()} == TABLE_1


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=seeds)
def test_group_norm_on_a_fully_connected_layer_has_the_layer_norm_row(seed):
    """Exercise ex-ln-2: the derived row, plus the group-wise scaling that LN lacks."""
    X, W, rng = data(seed, n=20, d=8, H=12)
    spec = {"method": "group", "groups": 3}
    table = nb.invariance_table(X, W, rng, methods={"GN": spec})
    assert tuple(table["GN"].values()) == TABLE_1["Layer norm"]
    per_group = np.repeat(rng.uniform(0.1, 10.0, size=3), 4)[:, None]   # one factor per group of 4 units
    assert same("group", X, W, X, per_group * W, groups=3)
    assert not same("layer", X, W, X, per_group * W)


def test_bad_method_or_shapes_raise_value_errors():
    X, W, _ = data(0)
    with pytest.raises(ValueError, match="'median'"):
        nb.normalized_summed_inputs(X, W, "median")
    with pytest.raises(ValueError, match=r"\(16, 7\) and \(6, 5\)"):
        nb.normalized_summed_inputs(X, W[:, :5], "layer")
    with pytest.raises(ValueError, match="H = 6"):
        nb.normalized_summed_inputs(X, W, "group", groups=4)
