"""Claims of notebooks/attention_permutation.ipynb, checked on the notebook's own functions.

Invariance of attention with fixed queries, equivariance of (multi-head) self-attention,
and the two things that break equivariance: positional encodings and a causal mask.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nbload import load_notebook

nb = load_notebook("attention_permutation")

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
values = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False, width=64)


def matrices(rows, cols):
    return hnp.arrays(np.float64, (rows, cols), elements=values)


@st.composite
def permutations_of(draw, n):
    return np.array(draw(st.permutations(range(n))), dtype=np.int64)


def assert_close(actual, expected):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9 * scale)


def seeded_problem(seed, n, d, d_k, d_v):
    """Generic inputs (no accidental symmetry) drawn from a seeded generator."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W_q, W_k = rng.standard_normal((2, d, d_k)) / math.sqrt(d)
    W_v = rng.standard_normal((d, d_v)) / math.sqrt(d)
    return X, W_q, W_k, W_v


# --- the functions compute what the equations say ------------------------------------------


@PROPERTY
@given(st.data(), st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.integers(1, 3))
def test_attention_matches_a_loop_over_the_formula(data, m, n, d_k, d_v):
    Q, K, V = data.draw(matrices(m, d_k)), data.draw(matrices(n, d_k)), data.draw(matrices(n, d_v))
    expected = np.zeros((m, d_v))
    for i in range(m):
        scores = [sum(Q[i, c] * K[j, c] for c in range(d_k)) / math.sqrt(d_k) for j in range(n)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        for j in range(n):
            expected[i] += exps[j] / sum(exps) * V[j]
    assert_close(nb.attention(Q, K, V), expected)


@PROPERTY
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=values))
def test_softmax_rows_are_probability_vectors(z):
    p = nb.softmax(z, axis=-1)
    assert np.all(p > 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    # shifting every score of a row by the same constant changes nothing
    assert_close(nb.softmax(z + 3.0, axis=-1), p)


def test_sinusoidal_encoding_matches_the_formula():
    n, d = 7, 6
    E = nb.sinusoidal_positional_encoding(n, d)
    for pos in range(n):
        for k in range(d):
            angle = pos / 10000 ** (2 * (k // 2) / d)
            expected = math.sin(angle) if k % 2 == 0 else math.cos(angle)
            assert E[pos, k] == pytest.approx(expected, abs=1e-12)


@PROPERTY
@given(st.data(), st.integers(1, 8))
def test_permutation_matrix_reorders_rows_and_is_orthogonal(data, n):
    perm = data.draw(permutations_of(n))
    X = data.draw(matrices(n, 3))
    P = nb.permutation_matrix(perm)
    assert np.array_equal(P @ X, X[perm])
    assert np.array_equal(P.T @ P, np.eye(n))


@PROPERTY
@given(st.data(), st.integers(1, 3), st.integers(1, 8))
def test_softmax_commutes_with_permuting_rows_and_columns(data, m, n):
    S = data.draw(matrices(m, n))
    P = nb.permutation_matrix(data.draw(permutations_of(n)))
    R = nb.permutation_matrix(data.draw(permutations_of(m)))
    assert_close(nb.softmax(R @ S @ P.T), R @ nb.softmax(S) @ P.T)


# --- invariance and equivariance --------------------------------------------------------------


@PROPERTY
@given(st.data(), st.integers(1, 4), st.integers(1, 9), st.integers(1, 5), st.integers(1, 4))
def test_attention_with_fixed_queries_is_permutation_invariant(data, m, n, d_k, d_v):
    Q, K, V = data.draw(matrices(m, d_k)), data.draw(matrices(n, d_k)), data.draw(matrices(n, d_v))
    P = nb.permutation_matrix(data.draw(permutations_of(n)))
    assert_close(nb.attention(Q, P @ K, P @ V), nb.attention(Q, K, V))


@PROPERTY
@given(st.data(), st.integers(1, 9), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4))
def test_self_attention_is_permutation_equivariant(data, n, d, d_k, d_v):
    X = data.draw(matrices(n, d))
    W_q, W_k, W_v = data.draw(matrices(d, d_k)), data.draw(matrices(d, d_k)), data.draw(matrices(d, d_v))
    P = nb.permutation_matrix(data.draw(permutations_of(n)))
    assert_close(nb.self_attention(P @ X, W_q, W_k, W_v), P @ nb.self_attention(X, W_q, W_k, W_v))


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(1, 5))
def test_self_attention_is_not_permutation_invariant(seed, n, d):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 3, 2)
    swap = np.arange(n)
    swap[[0, 1]] = [1, 0]
    P = nb.permutation_matrix(swap)
    out, out_permuted = nb.self_attention(X, W_q, W_k, W_v), nb.self_attention(P @ X, W_q, W_k, W_v)
    assert np.max(np.abs(out_permuted - out)) > 1e-6  # not invariant ...
    assert_close(out_permuted, P @ out)  # ... but equivariant


@PROPERTY
@given(st.data(), st.integers(1, 7), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_multi_head_self_attention_is_permutation_equivariant(data, n, d, h, d_k, d_v):
    X = data.draw(matrices(n, d))
    W_q = data.draw(hnp.arrays(np.float64, (h, d, d_k), elements=values))
    W_k = data.draw(hnp.arrays(np.float64, (h, d, d_k), elements=values))
    W_v = data.draw(hnp.arrays(np.float64, (h, d, d_v), elements=values))
    W_o = data.draw(matrices(h * d_v, d))
    P = nb.permutation_matrix(data.draw(permutations_of(n)))
    assert_close(nb.multi_head_attention(P @ X, P @ X, W_q, W_k, W_v, W_o),
                 P @ nb.multi_head_attention(X, X, W_q, W_k, W_v, W_o))


@PROPERTY
@given(st.data(), st.integers(1, 3), st.integers(1, 7), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))
def test_multi_head_attention_with_fixed_queries_is_permutation_invariant(data, m, n, d, h, d_v):
    Y, X = data.draw(matrices(m, d)), data.draw(matrices(n, d))
    W_q = data.draw(hnp.arrays(np.float64, (h, d, 2), elements=values))
    W_k = data.draw(hnp.arrays(np.float64, (h, d, 2), elements=values))
    W_v = data.draw(hnp.arrays(np.float64, (h, d, d_v), elements=values))
    W_o = data.draw(matrices(h * d_v, 3))
    P = nb.permutation_matrix(data.draw(permutations_of(n)))
    assert_close(nb.multi_head_attention(Y, P @ X, W_q, W_k, W_v, W_o),
                 nb.multi_head_attention(Y, X, W_q, W_k, W_v, W_o))


def test_multi_head_attention_with_one_head_is_attention_times_w_o():
    rng = np.random.default_rng(1)
    X, W_q, W_k, W_v, W_o = (rng.standard_normal(s) for s in [(5, 4), (1, 4, 3), (1, 4, 3), (1, 4, 2), (2, 4)])
    assert_close(nb.multi_head_attention(X, X, W_q, W_k, W_v, W_o),
                 nb.self_attention(X, W_q[0], W_k[0], W_v[0]) @ W_o)


# --- what breaks the symmetry -----------------------------------------------------------------


def some_permutations(n):
    """The reversal and the swap of the first two positions: neither is the identity for n >= 2."""
    swap = np.arange(n)
    swap[[0, 1]] = [1, 0]
    return [np.arange(n)[::-1].copy(), swap]


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.integers(2, 8))
def test_adding_positional_encoding_breaks_equivariance_for_some_permutation(seed, n, d):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    E = nb.sinusoidal_positional_encoding(n, d)
    gaps = []
    for perm in some_permutations(n):
        P = nb.permutation_matrix(perm)
        gaps.append(np.max(np.abs(nb.self_attention(P @ X + E, W_q, W_k, W_v)
                                  - P @ nb.self_attention(X + E, W_q, W_k, W_v))))
        # moving the position vectors along with the tokens restores equivariance
        assert_close(nb.self_attention(P @ X + P @ E, W_q, W_k, W_v), P @ nb.self_attention(X + E, W_q, W_k, W_v))
    assert max(gaps) > 1e-6


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.integers(1, 6))
def test_causal_mask_breaks_equivariance_for_some_permutation(seed, n, d):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    M = nb.causal_mask(n)
    gaps = []
    for perm in some_permutations(n):
        P = nb.permutation_matrix(perm)
        gaps.append(np.max(np.abs(nb.self_attention(P @ X, W_q, W_k, W_v, M)
                                  - P @ nb.self_attention(X, W_q, W_k, W_v, M))))
    assert max(gaps) > 1e-6


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.integers(1, 6))
def test_causal_mask_hides_later_positions(seed, n, d):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    M = nb.causal_mask(n)
    changed = X.copy()
    changed[-1] += 5.0  # change only the last token
    out, out_changed = nb.self_attention(X, W_q, W_k, W_v, M), nb.self_attention(changed, W_q, W_k, W_v, M)
    assert_close(out_changed[:-1], out[:-1])
    assert np.max(np.abs(out_changed[-1] - out[-1])) > 1e-6


# --- the image figure: feature vectors versus pixels ----------------------------------------


def _image_and_features():
    rng = np.random.default_rng(7)
    image = rng.uniform(0.0, 1.0, (8, 8, 3))
    W, b = rng.standard_normal((3, 5)), rng.standard_normal(5) * 0.1
    return rng, image, W, b


def test_pixel_shuffle_with_1x1_features_leaves_attention_pooling_unchanged():
    rng, image, W, b = _image_and_features()
    perm = rng.permutation(64)
    shuffled = nb.flatten_feature_map(image)[perm].reshape(image.shape)
    tokens = nb.flatten_feature_map(nb.pixel_features(image, W, b))
    tokens_shuffled = nb.flatten_feature_map(nb.pixel_features(shuffled, W, b))
    assert np.array_equal(tokens_shuffled, tokens[perm])
    q = rng.standard_normal((1, 5))
    assert_close(nb.attention(q, tokens_shuffled, tokens_shuffled), nb.attention(q, tokens, tokens))


def test_pixel_shuffle_with_3x3_features_changes_attention_pooling():
    rng, image, W, b = _image_and_features()
    perm = rng.permutation(64)
    shuffled = nb.flatten_feature_map(image)[perm].reshape(image.shape)
    tokens = nb.flatten_feature_map(nb.pixel_features(nb.box_blur_3x3(image), W, b))
    tokens_shuffled = nb.flatten_feature_map(nb.pixel_features(nb.box_blur_3x3(shuffled), W, b))
    q = rng.standard_normal((1, 5))
    gap = np.max(np.abs(nb.attention(q, tokens_shuffled, tokens_shuffled) - nb.attention(q, tokens, tokens)))
    assert gap > 1e-6


def test_box_blur_is_the_mean_of_the_3x3_neighbourhood():
    image = np.arange(5 * 6 * 2, dtype=float).reshape(5, 6, 2) ** 1.5
    blurred = nb.box_blur_3x3(image)
    for y in range(5):
        for x in range(6):
            patch = [image[min(max(y + dy, 0), 4), min(max(x + dx, 0), 5)] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            np.testing.assert_allclose(blurred[y, x], np.mean(patch, axis=0), rtol=1e-12)


# --- clear errors for wrong input ----------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: nb.attention(np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 1))),  # d_k mismatch
        lambda: nb.attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 1))),  # N mismatch
        lambda: nb.attention(np.ones((2, 3)), np.ones((0, 3)), np.ones((0, 1))),  # no keys
        lambda: nb.attention(np.ones(3), np.ones((4, 3)), np.ones((4, 1))),  # 1-D query
        lambda: nb.attention_weights(np.ones((2, 3)), np.ones((4, 3)), np.zeros((2, 4), dtype=bool)),  # empty rows
        lambda: nb.attention_weights(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2), dtype=bool)),  # mask shape
        lambda: nb.self_attention(np.ones((4, 3)), np.ones((2, 2)), np.ones((3, 2)), np.ones((3, 2))),
        lambda: nb.permutation_matrix(np.array([0, 2, 2])),
        lambda: nb.permutation_matrix(np.array([0.0, 1.0])),
        lambda: nb.sinusoidal_positional_encoding(0, 4),
        lambda: nb.causal_mask(0),
        lambda: nb.multi_head_attention(np.ones((3, 4)), np.ones((3, 4)), np.ones((2, 4, 2)), np.ones((2, 4, 2)),
                                        np.ones((2, 4, 3)), np.ones((5, 4))),  # W_o rows != h * d_v
        lambda: nb.pixel_features(np.ones((4, 4, 3)), np.ones((2, 5)), np.ones(5)),
    ],
)
def test_wrong_shapes_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


# --- one theorem: Attention(RQ, PK, PV) = R Attention(Q, K, V) ------------------------------


@PROPERTY
@given(st.data(), st.integers(1, 5), st.integers(1, 8), st.integers(1, 4), st.integers(1, 3))
def test_permuting_queries_by_r_and_keys_values_by_p_permutes_the_output_by_r(data, m, n, d_k, d_v):
    Q, K, V = data.draw(matrices(m, d_k)), data.draw(matrices(n, d_k)), data.draw(matrices(n, d_v))
    R = nb.permutation_matrix(data.draw(permutations_of(m)))
    P = nb.permutation_matrix(data.draw(permutations_of(n)))
    assert_close(nb.attention(R @ Q, P @ K, P @ V), R @ nb.attention(Q, K, V))


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(2, 8), st.integers(1, 5))
def test_cross_attention_is_equivariant_in_its_queries_and_invariant_in_its_memory(seed, m, n, d):
    rng = np.random.default_rng(seed)
    Y, X = rng.standard_normal((m, d + 1)), rng.standard_normal((n, d))
    W_q = rng.standard_normal((d + 1, 3)) / math.sqrt(d + 1)
    W_k, W_v = rng.standard_normal((d, 3)) / math.sqrt(d), rng.standard_normal((d, 2)) / math.sqrt(d)
    R = nb.permutation_matrix(rng.permutation(m))
    P = nb.permutation_matrix(rng.permutation(n))
    out = nb.cross_attention(Y, X, W_q, W_k, W_v)
    assert_close(nb.cross_attention(R @ Y, X, W_q, W_k, W_v), R @ out)  # equivariant in the queries
    assert_close(nb.cross_attention(Y, P @ X, W_q, W_k, W_v), out)  # invariant in the memory
    assert_close(nb.cross_attention(R @ Y, P @ X, W_q, W_k, W_v), R @ out)
    # the query rows really do differ, so the first check is not equivariance of a constant
    swap = nb.permutation_matrix(np.r_[1, 0, np.arange(2, m)])
    assert np.max(np.abs(swap @ out - out)) > 1e-6


def test_self_attention_is_cross_attention_of_x_with_itself():
    rng = np.random.default_rng(3)
    X, W_q, W_k, W_v = rng.standard_normal((5, 4)), *rng.standard_normal((2, 4, 3)), rng.standard_normal((4, 2))
    np.testing.assert_array_equal(nb.self_attention(X, W_q, W_k, W_v), nb.cross_attention(X, X, W_q, W_k, W_v))


# --- relative position bias: breaks permutations, keeps shifts -------------------------------


def test_relative_position_bias_is_one_scalar_per_clipped_distance():
    b = np.array([10.0, 20.0, 30.0, 40.0, 50.0])  # distances -2, -1, 0, 1, 2
    B = nb.relative_position_bias(6, b)
    for i in range(6):
        for j in range(6):
            assert B[i, j] == b[min(max(j - i, -2), 2) + 2]


def test_attention_adds_the_bias_to_the_scores_before_the_softmax():
    rng = np.random.default_rng(4)
    Q, K, V = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    bias = rng.standard_normal((3, 4))
    expected = nb.softmax(Q @ K.T / math.sqrt(2) + bias) @ V
    assert_close(nb.attention(Q, K, V, bias=bias), expected)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.integers(1, 6), st.integers(1, 4))
def test_relative_position_bias_breaks_permutation_equivariance_for_some_permutation(seed, n, d, k):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    b = np.random.default_rng(seed + 1).standard_normal(2 * k + 1)
    B = nb.relative_position_bias(n, b)
    gaps = []
    for perm in some_permutations(n):
        P = nb.permutation_matrix(perm)
        gaps.append(np.max(np.abs(nb.self_attention(P @ X, W_q, W_k, W_v, bias=B)
                                  - P @ nb.self_attention(X, W_q, W_k, W_v, bias=B))))
    assert max(gaps) > 1e-6
    # without the bias the same layer is equivariant: the bias is what breaks it
    P = nb.permutation_matrix(some_permutations(n)[1])
    assert_close(nb.self_attention(P @ X, W_q, W_k, W_v), P @ nb.self_attention(X, W_q, W_k, W_v))


def _placed_in_window(X, s):
    """X moved s places back in a window of length n + s; the s empty places in front are padding."""
    n, d = X.shape
    window = np.zeros((n + s, d))
    window[s:] = X
    visible = np.zeros((n + s, n + s), dtype=bool)
    visible[:, s:] = True  # no query looks at a padding place
    return window, visible


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.integers(1, 5), st.integers(1, 6), st.integers(1, 4))
def test_relative_position_bias_keeps_equivariance_to_shifts(seed, n, d, s, k):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    b = np.random.default_rng(seed + 1).standard_normal(2 * k + 1)
    out = nb.self_attention(X, W_q, W_k, W_v, bias=nb.relative_position_bias(n, b))
    window, visible = _placed_in_window(X, s)
    moved = nb.self_attention(window, W_q, W_k, W_v, visible, bias=nb.relative_position_bias(n + s, b))
    assert_close(moved[s:], out)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(2, 6), st.integers(1, 6))
def test_absolute_positional_encoding_is_not_equivariant_to_shifts(seed, n, d, s):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    window, visible = _placed_in_window(X, s)
    E = nb.sinusoidal_positional_encoding(n + s, d)
    moved = nb.self_attention(window + E, W_q, W_k, W_v, visible)[s:]
    assert np.max(np.abs(moved - nb.self_attention(X + E[:n], W_q, W_k, W_v))) > 1e-6


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(1, 5), st.integers(1, 4))
def test_symmetric_relative_bias_keeps_equivariance_to_reversal(seed, n, d, k):
    X, W_q, W_k, W_v = seeded_problem(seed, n, d, 4, 3)
    b = np.random.default_rng(seed + 1).standard_normal(2 * k + 1)
    J = nb.permutation_matrix(np.arange(n)[::-1].copy())
    B_sym = nb.relative_position_bias(n, (b + b[::-1]) / 2)
    assert_close(nb.self_attention(J @ X, W_q, W_k, W_v, bias=B_sym), J @ nb.self_attention(X, W_q, W_k, W_v, bias=B_sym))


# --- a causal mask carries position even without positional encoding ------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_causal_mask_with_uniform_attention_gives_one_over_position(n):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 3))
    X[:, 0] = 0.0
    X[0, 0] = 1.0  # only the first (start) token has a 1 in the first component
    W_zero, W_k, W_first = np.zeros((3, 2)), rng.standard_normal((3, 2)), np.eye(3)[:, :1]
    out = nb.self_attention(X, W_zero, W_k, W_first, nb.causal_mask(n))[:, 0]
    np.testing.assert_allclose(out, 1.0 / np.arange(1, n + 1), rtol=1e-12)
    assert_close(nb.self_attention(X, W_zero, W_k, W_first)[:, 0], np.full(n, 1.0 / n))  # no mask: no position


@pytest.mark.parametrize(
    "call",
    [
        lambda: nb.attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)), bias=np.zeros((4, 2))),
        lambda: nb.relative_position_bias(4, np.ones(4)),  # even length: no middle entry for distance 0
        lambda: nb.relative_position_bias(0, np.ones(3)),
        lambda: nb.cross_attention(np.ones((2, 3)), np.ones((4, 5)), np.ones((3, 2)), np.ones((3, 2)), np.ones((5, 2))),
    ],
)
def test_wrong_bias_and_cross_attention_shapes_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


# --- what translation equivariance does and does not promise ---------------------------------


def _first_token_marker(X):
    """X with its first column zeroed except a 1 on the first token (a start-of-sentence marker)."""
    marked = X.copy()
    marked[:, 0] = 0.0
    marked[0, 0] = 1.0
    return marked


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(3, 9), st.integers(2, 5), st.integers(1, 6), st.integers(1, 4))
def test_relative_bias_alone_reveals_position_in_the_sentence_but_not_in_the_window(seed, n, d, s, kappa):
    X, _, W_k, _ = seeded_problem(seed, n, d, 4, 3)
    X = _first_token_marker(X)
    b = np.random.default_rng(seed + 1).standard_normal(2 * kappa + 1)
    W_zero, W_first = np.zeros((d, 4)), np.eye(d)[:, :1]  # scores are the bias alone; read the marker
    out = nb.self_attention(X, W_zero, W_k, W_first, bias=nb.relative_position_bias(n, b))[:, 0]
    # the first query sees only distances >= 0, the others also negative ones: the weight on the
    # marker differs from position to position, so the position inside the sentence shows ...
    assert np.ptp(out) > 1e-6
    # ... yet placing the sentence s places further back in a padded window changes nothing
    window, visible = _placed_in_window(X, s)
    moved = nb.self_attention(window, W_zero, W_k, W_first, visible, bias=nb.relative_position_bias(n + s, b))[s:, 0]
    assert_close(moved, out)


def test_without_bias_or_mask_the_same_layer_gives_every_position_the_same_output():
    X, _, W_k, _ = seeded_problem(11, 6, 3, 4, 3)
    X = _first_token_marker(X)
    out = nb.self_attention(X, np.zeros((3, 4)), W_k, np.eye(3)[:, :1])[:, 0]
    assert_close(out, np.full(6, 1.0 / 6))


@pytest.mark.parametrize("d", [2, 4, 8, 10])
@pytest.mark.parametrize("delta", [1, 3, 7])
def test_sinusoidal_encoding_moved_by_delta_is_a_fixed_rotation_of_the_encoding(d, delta):
    n = 12
    E = nb.sinusoidal_positional_encoding(n + delta, d)
    M = nb.sinusoid_shift_matrix(d, delta)
    np.testing.assert_allclose(E[delta:], E[:n] @ M, rtol=0, atol=1e-12)
    np.testing.assert_allclose(M @ M.T, np.eye(d), rtol=0, atol=1e-12)  # a rotation: lengths kept
    # the rotation depends on delta, not on the position: a wrong angle would break the first check
    assert not np.allclose(M, nb.sinusoid_shift_matrix(d, delta + 1))


def test_rotations_of_the_sinusoid_compose_so_scores_depend_on_the_offset_only():
    d, i, j = 6, 5, 2
    M = lambda p: nb.sinusoid_shift_matrix(d, p)  # noqa: E731
    np.testing.assert_allclose(M(i) @ M(j).T, M(i - j), rtol=0, atol=1e-12)


def test_sinusoid_shift_matrix_needs_an_even_dimension():
    with pytest.raises(ValueError):
        nb.sinusoid_shift_matrix(5, 1)
