"""The transformer-block chapter's claims, checked on the notebook's own code.

* the block's hand-written backward pass (both placements) equals central differences;
* a stack of blocks without positional encoding is permutation-equivariant (a property
  test), while a positional encoding breaks it;
* the Jacobian of LN is sqrt(d) / ||y|| times a projection (lemma), and the last-layer
  gradient of one token is the product of the theorem's three factors;
* at initialization, for the chapter's fixed seeds, the last layer's gradient does not
  shrink with depth in Post-LN and does shrink in Pre-LN (Xiong et al. 2020, Theorem 1),
  seed by seed on the paired runs, not only in the medians;
* the per-layer profile leans further toward the output in Post-LN than in Pre-LN, seed by seed at every depth;
* Adam's first step moves a deep Post-LN stack's output more than a Pre-LN stack's, seed by seed;
* the block's functions reject wrong shapes with a ValueError.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nbload import load_notebook

tb = load_notebook("transformer_block")


@pytest.mark.parametrize("placement", ["post", "pre"])
@pytest.mark.parametrize("seed", [1, 2])
def test_stack_backward_matches_central_differences(placement, seed):
    n_arrays, worst = tb.gradient_check(np.random.default_rng(seed), placement)
    assert n_arrays == (27 if placement == "pre" else 25)   # 12 per block, the input, (the final LN's 2)
    assert worst < 1e-6


@pytest.mark.parametrize("placement", ["post", "pre"])
def test_single_block_backward_matches_central_differences(placement):
    n_arrays, worst = tb.gradient_check(np.random.default_rng(7), placement, n_blocks=1, n=4, d=6, n_heads=3)
    assert worst < 1e-6


def test_gradient_check_detects_a_wrong_backward_pass(monkeypatch):
    """The check can fail: drop the residual term of the Pre-LN backward pass and it must notice."""
    right = tb.block_backward

    def wrong(dy, cache, p, placement):
        dx, g = right(dy, cache, p, placement)
        return dx - dy, g            # forgets the identity path of the second sub-layer's input
    monkeypatch.setattr(tb, "block_backward", wrong)
    _, worst = tb.gradient_check(np.random.default_rng(3), "pre")
    assert worst > 1e-2


def _stack(rng, placement, depth, d, n_heads):
    blocks = [tb.init_block(rng, d, 2 * d) for _ in range(depth)]
    for p in blocks:               # away from the initial values, so no coincidence at gamma = 1, bias = 0
        for name in p:
            p[name] = p[name] + 0.2 * rng.standard_normal(p[name].shape)
    final = {"g": 1 + 0.2 * rng.standard_normal(d), "b": 0.2 * rng.standard_normal(d)}
    return lambda x: tb.stack_forward(x, blocks, final, placement, n_heads)[0]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(1, 7), depth=st.integers(1, 3), heads=st.sampled_from([1, 2, 4]),
       placement=st.sampled_from(["post", "pre"]), seed=st.integers(0, 2**32 - 1))
def test_stack_without_positional_encoding_is_permutation_equivariant(data, n, depth, heads, placement, seed):
    perm = np.array(data.draw(st.permutations(range(n))))
    rng = np.random.default_rng(seed)
    d = 8
    T = _stack(rng, placement, depth, d, heads)
    X = rng.standard_normal((2, n, d))
    np.testing.assert_allclose(T(X[:, perm]), T(X)[:, perm], rtol=0, atol=1e-10)


@pytest.mark.parametrize("placement", ["post", "pre"])
def test_positional_encoding_breaks_equivariance(placement):
    rng = np.random.default_rng(11)
    d, n = 8, 5
    T = _stack(rng, placement, 2, d, 2)
    X, E = rng.standard_normal((1, n, d)), rng.standard_normal((1, n, d))
    perm = np.array([1, 0, 2, 3, 4])
    assert np.abs(T(X[:, perm] + E) - T(X + E)[:, perm]).max() > 1e-2


def test_layer_norm_statistics_are_per_token():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 6))
    y, (x_hat, inv_std, _) = tb.layer_norm_forward(x, np.ones(6), np.zeros(6))
    assert inv_std.shape == (3, 4, 1)
    x2 = x.copy()
    x2[1, 2] *= 50.0
    y2, _ = tb.layer_norm_forward(x2, np.ones(6), np.zeros(6))
    mask = np.ones((3, 4), bool)
    mask[1, 2] = False
    assert np.array_equal(y[mask], y2[mask])


@given(d=st.integers(3, 9), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_layer_norm_jacobian_is_scaled_projection(d, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(d) * rng.uniform(0.5, 3) + rng.normal()
    ln = lambda v: tb.layer_norm_forward(v, np.ones(d), np.zeros(d), eps=0.0)[0]   # noqa: E731
    h = 1e-6
    J_num = np.stack([(ln(z + h * e) - ln(z - h * e)) / (2 * h) for e in np.eye(d)], axis=1)
    y = z - z.mean()
    y_hat = y / np.linalg.norm(y)
    J = np.sqrt(d) / np.linalg.norm(y) * (np.eye(d) - np.ones((d, d)) / d - np.outer(y_hat, y_hat))
    np.testing.assert_allclose(J_num, J, atol=1e-6)
    assert np.isclose(np.linalg.norm(J, 2), np.sqrt(d) / np.linalg.norm(y))


@pytest.mark.parametrize("placement", ["post", "pre"])
def test_last_layer_gradient_of_one_token_is_the_theorems_product(placement):
    rng = np.random.default_rng(21)
    d, n, heads, vocab = 12, 4, 3, 6
    x = rng.standard_normal((1, n, d))
    W_out, targets = rng.normal(0, 1 / np.sqrt(d), (d, vocab)), rng.integers(0, vocab, (1, n))
    blocks = [tb.init_block(rng, d, 4 * d) for _ in range(3)]
    final = {"g": np.ones(d), "b": np.zeros(d)}
    o, cache = tb.stack_forward(x, blocks, final, placement, heads, eps=0.0)
    caches, c_final = cache
    _, do = tb.cross_entropy(o, W_out, targets)
    for token in range(n):
        g = np.zeros_like(do)
        g[0, token] = do[0, token] * targets.size
        _, grads, _ = tb.stack_backward(g, cache, blocks, placement)
        x_hat, inv_std, _ = caches[-1][3] if placement == "post" else c_final
        r = caches[-1][2][2][0, token]
        r_norm, scale, g_proj = tb.last_layer_factors(x_hat[0, token] / inv_std[0, token], r, g[0, token])
        assert np.isclose(np.linalg.norm(grads[-1]["W2"]), r_norm * scale * g_proj, rtol=1e-10, atol=0)
        assert g_proj < np.linalg.norm(g[0, token])          # the projection removes something


@pytest.fixture(scope="module")
def experiment():
    return tb.gradient_experiment(**tb.EXP)


def _median_ratio(results, placement, key):
    depths = tb.EXP["depths"]
    def value(p):
        return p["layers"][-1] if key == "sequence" else p[key]
    med = [np.median([value(p) for p in results[placement, L]]) for L in depths]
    return med[-1] / med[0]


@pytest.mark.parametrize("key", ["token", "sequence"])
def test_post_ln_last_layer_gradient_does_not_shrink_with_depth_pre_ln_does(experiment, key):
    """Deepest over shallowest depth, median over the fixed seeds: >= 0.8 for Post-LN, <= 0.5 for Pre-LN.
    Were the result the other way round (Post-LN shrinking, Pre-LN not), both assertions would fail."""
    post, pre = _median_ratio(experiment, "post", key), _median_ratio(experiment, "pre", key)
    assert post >= 0.8
    assert pre <= 0.5


def test_pre_ln_shrinkage_follows_the_final_layer_norms_scale(experiment):
    """The theorem: Pre-LN's per-token gradient shrinks with sqrt(d)/||y|| of the final LN's input."""
    grad = _median_ratio(experiment, "pre", "token")
    scale = _median_ratio(experiment, "pre", "ln_scale")
    assert 0.7 < grad / scale < 1.4


def test_mhsa_rejects_heads_that_do_not_divide_d():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 6))
    with pytest.raises(ValueError, match="divisible"):
        tb.mhsa_forward(rng.standard_normal((1, 3, 6)), W, W, W, W, n_heads=4)


def _paired_ratios(results, placement, key):
    """Per seed (same weights, inputs and targets at both depths): value at the deepest / the shallowest."""
    depths = tb.EXP["depths"]
    def value(p):
        return p["layers"][-1] if key == "sequence" else p[key]
    return np.array([value(b) / value(a) for a, b in zip(results[placement, depths[0]], results[placement, depths[-1]])])


def test_last_layer_gradient_claim_holds_seed_by_seed(experiment):
    """The chapter's paired ratios: per token Post-LN >= 0.8 and Pre-LN <= 0.5 for every seed; for the
    sequence loss Post-LN grows (>= 1) and Pre-LN shrinks (< 1) for every seed."""
    assert _paired_ratios(experiment, "post", "token").min() >= 0.8
    assert _paired_ratios(experiment, "pre", "token").max() <= 0.5
    assert _paired_ratios(experiment, "post", "sequence").min() >= 1.0
    assert _paired_ratios(experiment, "pre", "sequence").max() < 1.0


def test_per_layer_profile_output_side_versus_input_side_seed_by_seed(experiment):
    """Block L over block 1, per seed: < 1 in Pre-LN at every depth; Post-LN's over Pre-LN's on the same seed > 1
    at every depth; Post-LN's median > 1 from depth 8 on; Pre-LN's gradient falls with the block number
    (negative rank correlation) for every seed at L = 16."""
    def ends(placement, L):
        prof = np.array([p["layers"] for p in experiment[placement, L]])
        return prof[:, -1] / prof[:, 0]
    for L in tb.EXP["depths"]:
        post, pre = ends("post", L), ends("pre", L)
        assert np.all(pre < 1.0), L
        assert np.all(post / pre > 1.0), L
        if L >= 8:
            assert np.median(post) > 1.0, L
    prof = np.array([p["layers"] for p in experiment["pre", 16]])
    assert max(tb.spearman(row, np.arange(16)) for row in prof) < 0.0


def test_sequence_gradient_share_rises_with_token_alignment(experiment):
    """Over every depth and seed, the sequence loss's gradient over the per-token one rises with the mean
    cosine between tokens (Spearman > 0.5), in both placements: the chapter's reading of figure 3's right panel."""
    for placement in ("post", "pre"):
        pts = np.array([(p["cosine"], p["layers"][-1] / p["token"])
                        for L in tb.EXP["depths"] for p in experiment[placement, L]]).T
        assert tb.spearman(*pts) > 0.5, placement


def test_first_adam_step_moves_deep_post_ln_output_more_seed_by_seed(experiment):
    """At the small learning rate, ||o' - o|| / ||o|| after one Adam step: Post-LN / Pre-LN > 1 for every seed
    at the deepest stack, and larger there than at the shallowest (paired by seed)."""
    depths = tb.EXP["depths"]
    def ratio(L):
        post = np.array([p["step"][0, 0] for p in experiment["post", L]])
        pre = np.array([p["step"][0, 0] for p in experiment["pre", L]])
        return post / pre
    assert ratio(depths[-1]).min() > 1.0
    assert np.all(ratio(depths[-1]) > ratio(depths[0]))


def test_adam_first_step_is_a_sign_step():
    """Adam's first update with bias correction: m_hat = g, v_hat = g^2, so the step is -lr * g / (|g| + eps)."""
    rng = np.random.default_rng(4)
    g = rng.standard_normal((3, 5))
    lr, eps, beta1, beta2 = 1e-3, 1e-12, 0.9, 0.999
    m_hat = (1 - beta1) * g / (1 - beta1)
    v_hat = (1 - beta2) * g * g / (1 - beta2)
    adam = -lr * m_hat / (np.sqrt(v_hat) + eps)
    theta = rng.standard_normal((3, 5))
    np.testing.assert_allclose(tb.adam_first_step({"w": theta}, {"w": g}, lr)["w"] - theta, adam, rtol=1e-9, atol=0)


@pytest.mark.parametrize("call", [
    lambda: tb.layer_norm_backward(np.ones((2, 3, 5)), tb.layer_norm_forward(np.ones((2, 3, 4)) * np.arange(4),
                                                                              np.ones(4), np.zeros(4))[1]),
    lambda: tb.ffn_forward(np.ones((1, 2, 4)), np.ones((5, 8)), np.zeros(8), np.ones((8, 4)), np.zeros(4)),
    lambda: tb.ffn_forward(np.ones((1, 2, 4)), np.ones((4, 8)), np.zeros(8), np.ones((8, 3)), np.zeros(4)),
    lambda: tb.block_forward(np.ones((2, 4)), tb.init_block(np.random.default_rng(0), 4, 8), "pre", 2),
    lambda: tb.block_forward(np.ones((1, 2, 6)), tb.init_block(np.random.default_rng(0), 4, 8), "post", 2),
])
def test_block_functions_reject_wrong_shapes(call):
    with pytest.raises(ValueError):
        call()
