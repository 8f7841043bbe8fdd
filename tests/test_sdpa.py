"""Tests for the scaled dot-product attention chapter (notebooks/scaled_dot_product_attention.ipynb).

Every function under test is the notebook's own code, loaded from its ``export`` cells.
Expected values come from an independent computation (plain Python loops, finite
differences, the law of total variance) or from a derivation stated in the test.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nbload import load_notebook

nb = load_notebook("scaled_dot_product_attention")

FAST = settings(max_examples=60, deadline=None, derandomize=True)

small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)


def finite_arrays(bound, shape=small_shapes):
    return hnp.arrays(
        np.float64, shape,
        elements=st.floats(-bound, bound, allow_nan=False, allow_infinity=False),
    )


# --- softmax -----------------------------------------------------------------------------------

@FAST
@given(finite_arrays(1e300))
def test_softmax_rows_sum_to_one_even_for_huge_scores(x):
    a = nb.softmax(x, axis=-1)
    assert np.all(np.isfinite(a))
    assert np.all((a >= 0) & (a <= 1))
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@FAST
@given(finite_arrays(1e3, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6)),
       st.data())
def test_softmax_is_unchanged_by_adding_a_constant_to_a_row(x, data):
    shift = data.draw(hnp.arrays(np.float64, (x.shape[0], 1),
                                 elements=st.floats(-1e6, 1e6, allow_nan=False)))
    np.testing.assert_allclose(nb.softmax(x + shift), nb.softmax(x), rtol=1e-6, atol=1e-9)


@FAST
@given(finite_arrays(50.0, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=8)))
def test_softmax_matches_the_textbook_formula_on_moderate_scores(x):
    # exp(50) does not overflow, so the unshifted formula is a valid independent reference
    expected = [math.exp(v) / sum(math.exp(w) for w in x) for v in x]
    np.testing.assert_allclose(nb.softmax(x), expected, rtol=1e-12, atol=1e-300)


def test_softmax_of_scores_of_size_1e4_is_exact_and_finite():
    a = nb.softmax(np.array([1.0e4, 1.0e4 - 1.0, -1.0e4]))
    p = 1.0 / (1.0 + math.exp(-1.0))  # the two large scores differ by exactly 1
    np.testing.assert_allclose(a, [p, 1.0 - p, 0.0], rtol=1e-15, atol=0)


@FAST
@given(finite_arrays(1e300))
def test_log_softmax_is_finite_and_exponentiates_to_softmax(x):
    log_a = nb.log_softmax(x)
    assert np.all(np.isfinite(log_a)) and np.all(log_a <= 0)
    np.testing.assert_allclose(np.exp(log_a), nb.softmax(x), rtol=1e-12, atol=1e-300)


# --- attention ---------------------------------------------------------------------------------

dims = st.integers(1, 6)


@FAST
@given(st.lists(st.integers(1, 3), max_size=2), dims, dims, dims, dims, st.data())
def test_attention_output_has_shape_batch_by_n_q_by_d_v(batch, n_q, n_k, d_k, d_v, data):
    batch = tuple(batch)
    Q = data.draw(finite_arrays(10.0, batch + (n_q, d_k)))
    K = data.draw(finite_arrays(10.0, batch + (n_k, d_k)))
    V = data.draw(finite_arrays(10.0, batch + (n_k, d_v)))
    out = nb.scaled_dot_product_attention(Q, K, V)
    weights = nb.attention_weights(Q, K)
    assert out.shape == batch + (n_q, d_v)
    assert weights.shape == batch + (n_q, n_k)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)


@FAST
@given(dims, dims, dims, dims, st.data())
def test_attention_matches_a_loop_over_queries_and_keys(n_q, n_k, d_k, d_v, data):
    Q = data.draw(finite_arrays(3.0, (n_q, d_k)))
    K = data.draw(finite_arrays(3.0, (n_k, d_k)))
    V = data.draw(finite_arrays(3.0, (n_k, d_v)))
    expected = np.zeros((n_q, d_v))
    for i in range(n_q):
        s = [sum(Q[i, t] * K[j, t] for t in range(d_k)) / math.sqrt(d_k) for j in range(n_k)]
        w = [math.exp(v) / sum(math.exp(u) for u in s) for v in s]
        for j in range(n_k):
            expected[i] += w[j] * V[j]
    np.testing.assert_allclose(nb.scaled_dot_product_attention(Q, K, V), expected, rtol=1e-10, atol=1e-12)


@FAST
@given(dims, dims, dims, st.integers(1, 5))
def test_attention_rejects_q_and_k_with_different_d_k(n_q, n_k, d_q, extra):
    Q, K, V = np.zeros((n_q, d_q)), np.zeros((n_k, d_q + extra)), np.zeros((n_k, 2))
    with pytest.raises(ValueError) as err:
        nb.scaled_dot_product_attention(Q, K, V)
    message = str(err.value)
    assert str(Q.shape) in message and str(K.shape) in message


def test_attention_rejects_v_without_one_row_per_key():
    Q, K, V = np.zeros((3, 4)), np.zeros((5, 4)), np.zeros((6, 2))
    with pytest.raises(ValueError, match=r"\(5, 4\).*\(6, 2\)"):
        nb.scaled_dot_product_attention(Q, K, V)


def test_attention_rejects_vectors_instead_of_matrices():
    with pytest.raises(ValueError, match=r"\(4,\)"):
        nb.attention_weights(np.zeros(4), np.zeros((3, 4)))


def test_default_scale_is_one_over_sqrt_d_k_and_scale_one_is_unscaled():
    rng = np.random.default_rng(1)
    Q, K = rng.standard_normal((4, 9)), rng.standard_normal((7, 9))
    np.testing.assert_allclose(nb.attention_weights(Q, K), nb.softmax(Q @ K.T / 3.0), rtol=1e-12)
    np.testing.assert_allclose(nb.attention_weights(Q, K, scale=1.0), nb.softmax(Q @ K.T), rtol=1e-12)


# --- sympy derivation --------------------------------------------------------------------------

def test_sympy_variance_of_dot_product_simplifies_to_symbolic_d_k():
    d_k = sp.Symbol("d_k", positive=True, integer=True)
    mean, var = nb.dot_product_moments(d_k)
    assert sp.simplify(mean) == 0
    assert sp.simplify(var - d_k) == 0
    assert sp.simplify(var / sp.sqrt(d_k) ** 2 - 1) == 0


def test_sympy_general_variance_is_d_k_sigma_q2_sigma_k2():
    d_k = sp.Symbol("d_k", positive=True, integer=True)
    s_q, s_k = sp.symbols("s_q s_k", positive=True)
    _, var = nb.dot_product_moments(d_k, var_q=s_q**2, var_k=s_k**2)
    assert sp.simplify(var - d_k * s_q**2 * s_k**2) == 0


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(1, 7),
       st.fractions(-2, 2, max_denominator=5), st.fractions(-2, 2, max_denominator=5),
       st.fractions(1, 3, max_denominator=4), st.fractions(1, 3, max_denominator=4),
       st.fractions(0, "4/5", max_denominator=5), st.fractions(0, "4/5", max_denominator=5))
def test_sympy_moments_agree_with_the_law_of_total_variance(d, f_mq, f_mk, f_vq, f_vk, f_rq, f_rk):
    # For independent random vectors q, k with means mu_q, mu_k and covariances S_q, S_k,
    # Var(q.k) = E[Var(q.k | q)] + Var(E[q.k | q]) = tr(S_q S_k) + mu_q' S_k mu_q + mu_k' S_q mu_k.
    m_q, m_k, v_q, v_k, r_q, r_k = (
        sp.Rational(f.numerator, f.denominator) for f in (f_mq, f_mk, f_vq, f_vk, f_rq, f_rk)
    )
    mean, var = nb.dot_product_moments(d, m_q, m_k, v_q, v_k, r_q, r_k)

    def cov(v, r):
        return sp.Matrix(d, d, lambda i, j: v if i == j else r * v)

    S_q, S_k = cov(v_q, r_q), cov(v_k, r_k)
    mu_q, mu_k = sp.ones(d, 1) * m_q, sp.ones(d, 1) * m_k
    expected_var = (S_q * S_k).trace() + (mu_q.T * S_k * mu_q)[0] + (mu_k.T * S_q * mu_k)[0]
    assert sp.simplify(mean - (mu_q.T * mu_k)[0]) == 0
    assert sp.simplify(var - expected_var) == 0


def _total_variance_formula(d, mean, corr):
    # Law of total variance for independent q, k with equal means and equicorrelated components:
    # Var(q.k) = tr(S_q S_k) + mu' S_k mu + mu' S_q mu, with S = (1 - corr) I + corr 11' and mu = mean 1.
    S = sp.Matrix(d, d, lambda i, j: 1 if i == j else corr)
    mu = sp.ones(d, 1) * mean
    return (mu.T * mu)[0], (S * S).trace() + 2 * (mu.T * S * mu)[0]


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("dist_name", ["NORMAL", "UNIFORM"])
def test_exact_small_d_k_moments_from_the_distribution_equal_the_general_formula(d, dist_name):
    dist = getattr(nb, dist_name)
    mu, rho = sp.Symbol("mu", real=True), sp.Symbol("rho", positive=True)
    for mean, corr in ((0, 0), (mu, 0), (0, rho), (mu, rho), (sp.Rational(3, 2), sp.Rational(2, 5))):
        found = nb.exact_dot_product_moments(d, dist, mean=mean, corr=corr)
        general = nb.dot_product_moments(d, mean_q=mean, mean_k=mean, corr_q=corr, corr_k=corr)
        independent = _total_variance_formula(d, mean, corr)
        for f, g, h in zip(found, general, independent):
            assert sp.expand(f - g) == 0, (mean, corr, f, g)
            assert sp.expand(f - h) == 0, (mean, corr, f, h)


@pytest.mark.parametrize("d", [2, 3])
def test_exact_moments_with_k_equal_to_q_depend_on_the_fourth_moment(d):
    # q.q = sum of d independent q_i^2: mean d E[q^2] = d, variance d (E[q^4] - 1) = 2d (normal), 4d/5 (uniform)
    assert nb.exact_dot_product_moments(d, nb.NORMAL, tied=True) == (d, 2 * d)
    assert nb.exact_dot_product_moments(d, nb.UNIFORM, tied=True) == (d, sp.Rational(4 * d, 5))


def test_exact_moments_tell_apart_a_wrong_formula():
    # the note's shortcut Var(q_i k_i) = Var(q_i) Var(k_i) ignores the means: it would give d_k, not 3 d_k
    _, var = nb.exact_dot_product_moments(2, nb.UNIFORM, mean=1)
    assert var == 6 and var != 2


def test_one_term_integrals_give_mean_0_and_variance_1_for_normal_and_uniform():
    q, k = nb.q, nb.k
    for dist in (nb.NORMAL, nb.UNIFORM):
        assert nb.expect(q * k, dist) == 0
        assert nb.expect((q * k) ** 2, dist) - nb.expect(q * k, dist) ** 2 == 1
        assert nb.expect(q**2, dist) == 1


# --- Monte Carlo -------------------------------------------------------------------------------

@pytest.mark.parametrize("dist, fourth", [("normal", 9.0), ("uniform", 81.0 / 25.0)])
@pytest.mark.parametrize("d_k", [4, 64, 1024])
def test_monte_carlo_variance_is_within_five_standard_errors_of_d_k(dist, fourth, d_k):
    # Stated tolerance: 5 standard errors of the sample variance, SE = d_k * sqrt((kappa - 1) / n)
    # with kappa = 3 + (E[(q_i k_i)^4] - 3) / d_k; E[(q_i k_i)^4] = E[q^4]^2 = 3^2 or (9/5)^2.
    n = 20_000
    s = nb.sample_dot_products(np.random.default_rng(20240), n, d_k, dist=dist)
    se = d_k * math.sqrt((3 + (fourth - 3) / d_k - 1) / n)
    assert abs(s.var() - d_k) < 5 * se
    assert abs((s / math.sqrt(d_k)).var() - 1) < 5 * se / d_k
    assert abs(s.mean()) < 5 * math.sqrt(d_k / n)


BREAK_CASES = [  # (options for sample_dot_products, exact mean, exact variance), d_k = 64
    (dict(), 0.0, 64.0),
    (dict(dist="uniform"), 0.0, 64.0),
    (dict(mean=1.0), 64.0, 192.0),                      # 64 (1 + 1 + 1)
    (dict(corr=0.5), 0.0, 64.0 + 64 * 63 * 0.25),       # d + d (d - 1) rho^2
]


def _within(s, mean, var):
    """Largest distance of the sample mean and variance from (mean, var), in plug-in standard errors."""
    n, v = s.size, s.var()
    se_mean = math.sqrt(v / n)
    se_var = math.sqrt((np.mean((s - s.mean()) ** 4) - v**2) / n)
    return max(abs(s.mean() - mean) / se_mean, abs(v - var) / se_var)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_broken_assumption_rows_lie_within_four_standard_errors_of_theory(seed):
    rng = np.random.default_rng(seed)
    for options, mean, var in BREAK_CASES:
        s = nb.sample_dot_products(rng, 20_000, 64, **options)
        assert _within(s, mean, var) < 4, (options, s.mean(), s.var())
    q, _ = nb.sample_qk(rng, 20_000, 64)
    assert _within(np.sum(q * q, axis=-1), 64.0, 128.0) < 4  # k = q: mean d, variance 2 d


def test_four_standard_errors_reject_the_variance_that_ignores_the_mean():
    s = nb.sample_dot_products(np.random.default_rng(0), 20_000, 64, mean=1.0)
    assert _within(s, 64.0, 64.0) > 4  # the note's shortcut, wrong when the mean is 1


def test_sampler_gives_requested_mean_variance_and_correlation():
    rng = np.random.default_rng(7)
    for dist in ("normal", "uniform"):
        q, k = nb.sample_qk(rng, 100_000, 3, dist=dist, mean=1.5, corr=0.4)
        for x in (q, k):
            np.testing.assert_allclose(x.mean(axis=0), 1.5, atol=0.02)
            np.testing.assert_allclose(x.var(axis=0), 1.0, atol=0.03)
            np.testing.assert_allclose(np.corrcoef(x.T)[np.triu_indices(3, 1)], 0.4, atol=0.02)
        assert abs(np.corrcoef(q[:, 0], k[:, 0])[0, 1]) < 0.02  # q and k independent


def test_sampler_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="corr"):
        nb.sample_qk(rng, 5, 3, corr=1.0)
    with pytest.raises(ValueError, match="dist"):
        nb.sample_qk(rng, 5, 3, dist="cauchy")


# --- saturation and the softmax Jacobian --------------------------------------------------------

def test_unscaled_attention_saturates_as_d_k_grows_and_scaled_does_not():
    rng = np.random.default_rng(3)
    top = {}
    for d in (4, 1024):
        Q, K = nb.sample_qk(rng, (20, 16), d)
        top["unscaled", d] = np.median(nb.attention_weights(Q, K, scale=1.0).max(axis=-1))
        top["scaled", d] = np.median(nb.attention_weights(Q, K).max(axis=-1))
    assert top["unscaled", 1024] > 0.99 > top["unscaled", 4]
    # scaled scores have the same variance for every d_k, so the typical top weight barely moves
    assert abs(top["scaled", 1024] - top["scaled", 4]) < 0.05
    assert top["scaled", 1024] < 0.5


@FAST
@given(finite_arrays(5.0, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=7)))
def test_softmax_jacobian_matches_central_differences(z):
    h = 1e-6
    numeric = np.stack(
        [(nb.softmax(z + h * e) - nb.softmax(z - h * e)) / (2 * h) for e in np.eye(z.size)], axis=1
    )
    np.testing.assert_allclose(nb.softmax_jacobian(nb.softmax(z)), numeric, atol=1e-8)


@FAST
@given(finite_arrays(1e3, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7)))
def test_softmax_jacobian_is_symmetric_has_zero_row_sums_and_obeys_both_bounds(z):
    a = nb.softmax(z)
    J = nb.softmax_jacobian(a)
    assert J.shape == a.shape + (a.shape[-1],)
    np.testing.assert_allclose(J, np.swapaxes(J, -1, -2), atol=0)
    np.testing.assert_allclose(J.sum(axis=-1), 0.0, atol=1e-15)  # softmax ignores a common shift
    norm = np.linalg.norm(J, axis=(-2, -1))
    assert np.all(norm <= 2 * (1 - np.sum(a**2, axis=-1)) + 1e-12)
    assert np.all(norm <= 4 * (1 - a.max(axis=-1)) + 1e-12)
    m = a.max(axis=-1)
    assert np.all(norm >= m * (1 - m) - 1e-12)  # the lower bound: ||J||_F >= J_{i*i*}


@FAST
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([None, 1.0, 0.3]), st.data())
def test_query_gradient_norm_matches_finite_differences(n_k, d_k, scale, data):
    q = data.draw(finite_arrays(2.0, (d_k,)))
    K = data.draw(finite_arrays(2.0, (n_k, d_k)))
    c = 1 / math.sqrt(d_k) if scale is None else scale
    h = 1e-6
    numeric = np.stack(
        [(nb.softmax(c * K @ (q + h * e)) - nb.softmax(c * K @ (q - h * e))) / (2 * h) for e in np.eye(d_k)],
        axis=1,
    )
    got = nb.query_gradient_norm(q[None, :], K, scale)[0]
    np.testing.assert_allclose(got, np.linalg.norm(numeric), rtol=1e-5, atol=1e-8)


def test_effective_number_of_keys_is_one_for_one_key_and_n_for_uniform():
    np.testing.assert_allclose(nb.effective_number_of_keys(np.zeros(5)), 5.0, rtol=1e-12)
    np.testing.assert_allclose(nb.effective_number_of_keys(np.array([1e4, 0.0, -1e4])), 1.0, rtol=1e-12)
    # two equal keys and the rest far below: exactly two effective keys
    np.testing.assert_allclose(nb.effective_number_of_keys(np.array([0.0, 0.0, -1e3])), 2.0, rtol=1e-12)


def test_jacobian_norm_is_about_twice_one_minus_the_top_weight_when_saturated():
    # one runner-up key: J has four large entries near +-m(1 - m), so ||J||_F ~ 2 (1 - m)
    for gap in (5.0, 10.0, 20.0):
        a = nb.softmax(np.array([0.0, -gap, -gap - 8.0, -gap - 9.0]))
        norm = np.linalg.norm(nb.softmax_jacobian(a))
        # corrections are of relative size 1 - m (and e^-8 from the two far keys)
        assert abs(norm / (1 - a.max()) - 2.0) < 3 * (1 - a.max()) + 1e-3, (gap, norm / (1 - a.max()))


# --- masks ---------------------------------------------------------------------------------------

def test_masked_scores_get_weight_exactly_zero_and_the_rest_renormalize():
    rng = np.random.default_rng(11)
    scores = rng.normal(scale=5.0, size=(6, 7))
    visible = rng.random((6, 7)) < 0.6
    visible[:, 0] = True  # every row keeps at least one key
    a = nb.softmax(np.where(visible, scores, -np.inf))
    assert np.all(a[~visible] == 0.0)
    for row, keep in zip(range(6), visible):
        np.testing.assert_allclose(a[row, keep], nb.softmax(scores[row, keep]), rtol=1e-12)


def test_a_fully_masked_row_comes_back_as_nan_and_leaves_other_rows_alone():
    scores = np.array([[1.0, -np.inf, 2.0], [-np.inf, -np.inf, -np.inf]])
    with np.errstate(invalid="ignore"):
        a = nb.softmax(scores)
    assert np.all(np.isnan(a[1]))
    np.testing.assert_allclose(a[0], nb.softmax(np.array([1.0, -np.inf, 2.0])), rtol=0)


# --- bootstrap intervals and the crossover of the query gradient --------------------------------

def test_bootstrap_resamples_whole_rows():
    # rows that are constant inside: resampling rows of (n, m) is resampling the n row values
    values = np.random.default_rng(2).standard_normal(40)
    grouped = nb.bootstrap_median_interval(np.repeat(values[:, None], 5, axis=1), np.random.default_rng(9))
    single = nb.bootstrap_median_interval(values[:, None], np.random.default_rng(9))
    assert grouped == single


def test_bootstrap_interval_contains_the_median_and_widens_with_the_level():
    x = np.random.default_rng(4).standard_normal((50, 8))
    lo90, hi90 = nb.bootstrap_median_interval(x, np.random.default_rng(5), level=0.90)
    lo99, hi99 = nb.bootstrap_median_interval(x, np.random.default_rng(5), level=0.99)
    assert lo99 <= lo90 < np.median(x) < hi90 <= hi99
    with pytest.raises(ValueError, match=r"\(50,\)"):
        nb.bootstrap_median_interval(x[:, 0], np.random.default_rng(0))


@pytest.mark.parametrize("seed", [21, 22])
def test_unscaled_query_gradient_median_is_larger_at_d_k_64_and_smaller_at_1024_beyond_the_spread(seed):
    # The chapter claims an order only where the 95% intervals of the two medians do not overlap;
    # at d_k = 256 they overlap, so nothing is claimed there.
    rng = np.random.default_rng(seed)
    n_seq, n_tok = 100, 32
    interval = {}
    for d in (64, 1024):
        Q, K = nb.sample_qk(rng, (n_seq, n_tok), d)
        for key, scale in (("unscaled", 1.0), ("scaled", 1 / math.sqrt(d))):
            g = nb.query_gradient_norm(Q, K, scale)
            interval[key, d] = nb.bootstrap_median_interval(g, rng, n_boot=500)
    assert interval["unscaled", 64][0] > interval["scaled", 64][1]
    assert interval["unscaled", 1024][1] < interval["scaled", 1024][0]
