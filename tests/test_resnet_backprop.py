"""The hand-written backpropagation of the ResNet chapter (notebooks/resnet.ipynb).

Every analytic gradient is compared with central differences computed here, independently
of the notebook's own gradient-check helper.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nbload import load_notebook

nb = load_notebook("resnet")

FAST = settings(max_examples=25, deadline=None, derandomize=True)


def central_differences(f, arrays, eps=1e-6):
    out = {}
    for name, a in arrays.items():
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)  # views into a and g
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            up = f()
            flat[i] = keep - eps
            down = f()
            flat[i] = keep
            gflat[i] = (up - down) / (2 * eps)
        out[name] = g
    return out


def max_relative_error(a, b):
    """Worst error of a against b, relative to each array's size (floored at 1e-4 of the largest array).

    The floor keeps finite-difference noise (about 1e-10) from dominating arrays whose whole
    gradient is tiny, e.g. dL/dh of a batch norm over two samples.
    """
    scale = max(np.max(np.abs(b[k])) for k in b)
    return max(np.max(np.abs(a[k] - b[k])) / max(np.max(np.abs(b[k])), 1e-4 * scale) for k in b)


def perturbed_params(seed, depth, width, n_nets):
    rng = np.random.default_rng(seed)
    p = nb.init_params(rng, depth, width, n_nets=n_nets)
    for name in ("b_in", "b", "gamma", "beta", "b_out"):
        p[name] = p[name] + 0.3 * rng.standard_normal(p[name].shape)
    return p, rng


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    depth=st.integers(1, 3),
    width=st.integers(2, 5),
    n_nets=st.integers(1, 2),
    residual=st.booleans(),
    bn=st.booleans(),
    y=hnp.arrays(np.float64, st.integers(3, 7).map(lambda k: (k, 1)),
                 elements=st.floats(-3, 3, allow_nan=False, allow_infinity=False)),
)
def test_backward_matches_central_differences(seed, depth, width, n_nets, residual, bn, y):
    n = y.shape[0]
    p, rng = perturbed_params(seed, depth, width, n_nets)
    X = rng.standard_normal((n, 2))
    pred, cache = nb.forward(p, X, residual, bn)
    analytic = nb.backward(p, nb.mse_loss(pred, y)[1], cache, residual, bn)
    numeric = central_differences(lambda: nb.mse_loss(nb.forward(p, X, residual, bn)[0], y)[0].sum(), p)
    assert set(analytic) == set(p)
    assert all(analytic[k].shape == p[k].shape for k in p)
    assert max_relative_error(analytic, numeric) < 1e-5


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 8), d=st.integers(1, 4))
def test_batchnorm_backward_matches_central_differences(seed, n, d):
    rng = np.random.default_rng(seed)
    arrays = {"h": rng.standard_normal((n, d)) * 2 + 1, "gamma": rng.standard_normal((1, d)),
              "beta": rng.standard_normal((1, d))}
    upstream = rng.standard_normal((n, d))

    def f():
        return float((nb.batchnorm_forward(arrays["h"], arrays["gamma"], arrays["beta"])[0] * upstream).sum())

    _, cache = nb.batchnorm_forward(arrays["h"], arrays["gamma"], arrays["beta"])
    dh, dgamma, dbeta = nb.batchnorm_backward(upstream, arrays["gamma"], cache)
    numeric = central_differences(f, arrays)
    assert max_relative_error({"h": dh, "gamma": dgamma, "beta": dbeta}, numeric) < 1e-5


def test_batchnorm_output_has_zero_mean_and_unit_variance_per_feature():
    rng = np.random.default_rng(3)
    h = rng.standard_normal((50, 4)) * [1, 10, 0.1, 3] + [5, -2, 0, 1]
    y, _ = nb.batchnorm_forward(h, np.ones((1, 4)), np.zeros((1, 4)))
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    v = h.var(axis=0)
    np.testing.assert_allclose(y.var(axis=0), v / (v + nb.NORM_EPS), rtol=1e-12)  # 1 up to eps


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5), d=st.integers(3, 6))
def test_standardize_features_backward_matches_central_differences(seed, n, d):
    rng = np.random.default_rng(seed)
    arrays = {"h": rng.standard_normal((n, d)) * 2 + 1}
    upstream = rng.standard_normal((n, d))

    def f():
        return float((nb.standardize_features(arrays["h"])[0] * upstream).sum())

    _, cache = nb.standardize_features(arrays["h"])
    numeric = central_differences(f, arrays)
    assert max_relative_error({"h": nb.standardize_features_backward(upstream, cache)}, numeric) < 1e-5


def test_standardize_features_gives_each_sample_zero_mean_and_unit_variance():
    rng = np.random.default_rng(4)
    h = rng.standard_normal((6, 8)) * 5 + 3
    z, _ = nb.standardize_features(h)
    np.testing.assert_allclose(z.mean(axis=-1), 0, atol=1e-12)
    v = h.var(axis=-1)
    np.testing.assert_allclose(z.var(axis=-1), v / (v + nb.NORM_EPS), rtol=1e-12)


def test_without_bn_the_unit_gamma_and_beta_do_nothing():
    rng = np.random.default_rng(8)
    p = nb.init_params(rng, 3, 4, n_nets=2)
    X = rng.standard_normal((5, 2))
    q = {k: v.copy() for k, v in p.items()}
    q["gamma"] = q["gamma"] * 3.0
    q["beta"] = q["beta"] + 1.0
    assert np.array_equal(nb.forward(p, X, True)[0], nb.forward(q, X, True)[0])
    assert not np.array_equal(nb.forward(p, X, True, bn=True)[0], nb.forward(q, X, True, bn=True)[0])


@pytest.mark.parametrize("depth", [1, 4, 9])
def test_residual_gradient_survives_zero_weights_but_plain_gradient_vanishes(depth):
    """With every unit weight W_k = 0, the residual net is its identity path (eq-res-unrolled-grad)."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    shallow = nb.init_params(np.random.default_rng(11), 1, 4)
    deep = nb.init_params(np.random.default_rng(11), depth, 4)
    for p in (shallow, deep):
        p["W"][:] = 0.0
    deep["W_in"], deep["W_out"] = shallow["W_in"], shallow["W_out"]

    def grad_w_in(p, residual):
        pred, cache = nb.forward(p, X, residual)
        return nb.backward(p, nb.mse_loss(pred, y)[1], cache, residual)["W_in"]

    g_res = grad_w_in(deep, residual=True)
    assert np.max(np.abs(g_res)) > 1e-3
    np.testing.assert_allclose(g_res, grad_w_in(shallow, residual=True), rtol=1e-12, atol=1e-15)
    assert np.all(grad_w_in(deep, residual=False) == 0.0)


def test_forward_shapes_and_errors():
    p = nb.init_params(np.random.default_rng(0), depth=2, width=3, d_in=2, d_out=1, n_nets=5)
    pred, _ = nb.forward(p, np.zeros((4, 2)) + np.arange(4)[:, None], residual=True)
    assert pred.shape == (5, 4, 1)
    with pytest.raises(ValueError):
        nb.forward(p, np.zeros((4, 3)), residual=True)
    with pytest.raises(ValueError):
        nb.mse_loss(pred, np.zeros((3, 1)))
    with pytest.raises(ValueError):
        nb.init_params(np.random.default_rng(0), depth=0, width=3)
    with pytest.raises(ValueError):
        nb.batchnorm_forward(np.zeros((1, 3)), 1.0, 0.0)


def test_train_does_not_modify_its_input_and_lowers_the_loss():
    rng = np.random.default_rng(5)
    X, y = nb.make_task(rng, 32)
    p = nb.init_params(rng, 2, 8, n_nets=2)
    before = {k: v.copy() for k, v in p.items()}
    _, losses = nb.train(p, X, y, residual=True, steps=40, lr=0.02)
    assert all(np.array_equal(before[k], p[k]) for k in p)
    assert losses.shape == (40, 2)
    assert np.all(losses[-1] < losses[0])
