"""Claims of notebooks/layer_norm.ipynb about BN, LN, IN and GN and their axes.

Every check runs the notebook's own functions (loaded from its `export` cells) and
compares them with an independent computation: a brute-force implementation of the
sets S_i of Wu & He (2018), eqs. 3-5 and 7, or a statement derived in the chapter.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbload import load_notebook

nb = load_notebook("layer_norm")

FAST = settings(max_examples=25, deadline=None, derandomize=True)
METHODS = ("BN", "LN", "IN", "GN")


def in_same_set(method, i, k, C, G):
    """Membership in S_i, written out from Wu & He (2018), eqs. 3-5 and 7."""
    if method == "BN":
        return k[1] == i[1]
    if method == "LN":
        return k[0] == i[0]
    if method == "IN":
        return k[0] == i[0] and k[1] == i[1]
    return k[0] == i[0] and k[1] // (C // G) == i[1] // (C // G)


def brute_force_normalize(x, method, G=None, eps=1e-5):
    """Eqs. (1)-(2) of Wu & He (2018), one element at a time."""
    C = x.shape[1]
    out = np.empty_like(x)
    indices = list(np.ndindex(x.shape))
    for i in indices:
        members = np.array([x[k] for k in indices if in_same_set(method, i, k, C, G)])
        mu = members.sum() / len(members)
        var = ((members - mu) ** 2).sum() / len(members)
        out[i] = (x[i] - mu) / np.sqrt(var + eps)
    return out


def run(method, x, G=None, eps=1e-5):
    if method == "BN":
        return nb.batch_norm_nchw(x, eps=eps)
    if method == "LN":
        return nb.layer_norm_nchw(x, eps=eps)
    if method == "IN":
        return nb.instance_norm(x, eps=eps)
    return nb.group_norm(x, G, eps=eps)


def spec(method, G=None):
    return nb.NORM_AXES[method], (G if method == "GN" else 1)


shapes = st.tuples(st.integers(1, 3), st.sampled_from([1, 2, 4, 6]), st.integers(1, 3), st.integers(1, 3))


@st.composite
def tensors_and_groups(draw):
    N, C, H, W = draw(shapes)
    G = draw(st.sampled_from([g for g in range(1, C + 1) if C % g == 0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(draw(st.floats(-5, 5)), draw(st.floats(0.1, 10)), size=(N, C, H, W))
    return x, G


@FAST
@given(data=tensors_and_groups(), method=st.sampled_from(METHODS))
def test_each_normalization_matches_the_set_definition_of_wu_and_he(data, method):
    x, G = data
    np.testing.assert_allclose(run(method, x, G), brute_force_normalize(x, method, G), rtol=1e-10, atol=1e-10)


@FAST
@given(data=tensors_and_groups(), method=st.sampled_from(METHODS))
def test_output_has_zero_mean_and_unit_variance_over_its_own_sets(data, method):
    x, G = data
    axes, groups = spec(method, G)
    idx = nb.statistic_index(x.shape, axes, groups)
    y = nb.normalize(x, axes, groups, eps=1e-5)
    for label in np.unique(idx):
        members_in, members_out = x[idx == label], y[idx == label]
        var_in = members_in.var()
        assert abs(members_out.mean()) < 1e-9
        # with eps > 0 the variance is var / (var + eps), exactly 1 only for eps = 0
        assert members_out.var() == pytest.approx(var_in / (var_in + 1e-5), rel=1e-9, abs=1e-12)


@FAST
@given(data=tensors_and_groups(), method=st.sampled_from(METHODS))
def test_number_and_size_of_the_sets(data, method):
    x, G = data
    N, C, H, W = x.shape
    expected_count = {"BN": C, "LN": N, "IN": N * C, "GN": N * G}[method]
    idx = nb.statistic_index(x.shape, *spec(method, G))
    labels, counts = np.unique(idx, return_counts=True)
    assert len(labels) == expected_count
    assert set(counts) == {x.size // expected_count}


@FAST
@given(data=tensors_and_groups())
def test_group_norm_with_one_group_is_layer_norm(data):
    x, _ = data
    np.testing.assert_allclose(nb.group_norm(x, 1), nb.layer_norm_nchw(x), rtol=1e-12, atol=1e-12)


@FAST
@given(data=tensors_and_groups())
def test_group_norm_with_one_channel_per_group_is_instance_norm(data):
    x, _ = data
    np.testing.assert_allclose(nb.group_norm(x, x.shape[1]), nb.instance_norm(x), rtol=1e-12, atol=1e-12)


@FAST
@given(data=tensors_and_groups())
def test_batch_norm_with_batch_size_one_is_instance_norm(data):
    x, _ = data
    np.testing.assert_allclose(nb.batch_norm_nchw(x[:1]), nb.instance_norm(x[:1]), rtol=1e-12, atol=1e-12)


@FAST
@given(data=tensors_and_groups(), method=st.sampled_from(METHODS), where=st.integers(0, 10**6))
def test_statistic_index_marks_exactly_the_elements_a_change_reaches(data, method, where):
    """The figure is coloured by statistic_index; this checks it against what normalize does."""
    x, G = data
    axes, groups = spec(method, G)
    i = np.unravel_index(where % x.size, x.shape)
    poked = x.copy()
    poked[i] += 1.0
    changed = nb.normalize(poked, axes, groups) != nb.normalize(x, axes, groups)
    idx = nb.statistic_index(x.shape, axes, groups)
    same_set = idx == idx[i]
    if same_set.sum() == 1:          # a set of one element always normalizes to 0
        assert not changed.any()
    else:
        assert np.array_equal(changed, same_set)


@FAST
@given(seed=st.integers(0, 2**32 - 1), B=st.integers(1, 12), H=st.integers(2, 20))
def test_layer_norm_of_a_case_does_not_depend_on_its_batch(seed, B, H):
    rng = np.random.default_rng(seed)
    A = rng.normal(rng.normal(0, 3, size=H), rng.uniform(0.5, 3, size=H), size=(B, H))
    g, b = rng.uniform(0.5, 1.5, size=H), rng.normal(size=H)
    alone = np.concatenate([nb.layer_norm(A[j:j + 1], g, b) for j in range(B)])
    together = nb.layer_norm(A, g, b)
    shuffled = rng.permutation(B)
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nb.layer_norm(A[shuffled], g, b), together[shuffled], rtol=1e-12, atol=1e-12)


@FAST
@given(data=tensors_and_groups(), method=st.sampled_from(("LN", "IN", "GN")), seed=st.integers(0, 2**32 - 1))
def test_per_case_normalizations_do_not_depend_on_the_rest_of_the_batch(data, method, seed):
    x, G = data
    others = np.random.default_rng(seed).normal(size=(3,) + x.shape[1:])
    first_alone = run(method, x[:1], G)
    first_in_bigger_batch = run(method, np.concatenate([x[:1], others]), G)[:1]
    np.testing.assert_allclose(first_in_bigger_batch, first_alone, rtol=1e-12, atol=1e-12)


def test_batch_norm_of_a_case_depends_on_its_batch_and_collapses_at_batch_size_one():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(15, 6))
    g, b = np.full(6, 2.0), np.arange(6.0)
    out_1, _, _ = nb.batch_norm_train(A[:8], g, b)
    out_2, _, _ = nb.batch_norm_train(np.concatenate([A[:1], A[8:]]), g, b)
    assert np.abs(out_1[0] - out_2[0]).max() > 0.1
    alone, mean, var = nb.batch_norm_train(A[:1], g, b)
    assert np.array_equal(alone[0], b)
    assert np.array_equal(mean, A[0]) and np.array_equal(var, np.zeros(6))


def test_batch_norm_inference_is_one_affine_map_with_the_given_statistics():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(5, 3))
    mean, var = np.array([1.0, -1.0, 0.5]), np.array([4.0, 1.0, 0.25])
    out = nb.batch_norm_infer(A, mean, var, eps=0.0)
    np.testing.assert_allclose(out, (A - mean) / np.sqrt(var), rtol=1e-14)
    np.testing.assert_allclose(nb.batch_norm_infer(A[:1], mean, var, eps=0.0), out[:1], rtol=1e-14)


@FAST
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(1, 3), C=st.integers(1, 4))
def test_layer_norm_of_a_feature_map_is_layer_norm_of_the_flattened_case(seed, N, C):
    x = np.random.default_rng(seed).normal(size=(N, C, 3, 2))
    flat = nb.layer_norm(x.reshape(N, -1)).reshape(x.shape)
    np.testing.assert_allclose(nb.layer_norm_nchw(x), flat, rtol=1e-12, atol=1e-12)


def _rnn_setup(seed, H=12, D=3, B=4, T=9):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(H, H)) / np.sqrt(H),
            rng.normal(size=(H, D)), rng.uniform(0.5, 1.5, size=H), rng.normal(size=H) * 0.1)


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_layer_norm_rnn_step_follows_eq_4(seed):
    x, h0, W_hh, W_xh, g, b = _rnn_setup(seed)
    h_seq, a_seq = nb.rnn_forward(x, h0, W_hh, W_xh, b, g, eps=0.0)
    h = h0
    for t in range(len(x)):
        a = W_hh @ h.T + W_xh @ x[t].T                    # column-vector form of eq. (4)
        mu, sigma = a.mean(axis=0), a.std(axis=0)
        h = np.tanh((g[:, None] / sigma) * (a - mu) + b[:, None]).T
        np.testing.assert_allclose(a_seq[t], a.T, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h_seq[t], h, rtol=1e-10, atol=1e-12)


@FAST
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.05, 20.0))
def test_layer_norm_rnn_without_input_ignores_the_scale_of_recurrent_weights(seed, scale):
    _, h0, W_hh, _, _, _ = _rnn_setup(seed, H=32)
    no_input, W_in = np.zeros((25, h0.shape[0], 1)), np.zeros((32, 1))
    h_1, _ = nb.rnn_forward(no_input, h0, W_hh, W_in, f=nb.relu, eps=0.0)
    h_s, _ = nb.rnn_forward(no_input, h0, scale * W_hh, W_in, f=nb.relu, eps=0.0)
    np.testing.assert_allclose(h_s, h_1, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nb.layer_norm(np.zeros((2, 3)), g=np.ones(4)), r"\(3,\)"),
        (lambda: nb.layer_norm(np.float64(1.0)), "shape"),
        (lambda: nb.batch_norm_train(np.zeros(5)), r"\(5,\)"),
        (lambda: nb.batch_norm_infer(np.zeros((2, 3)), np.zeros(2), np.ones(3)), r"\(2,\)"),
        (lambda: nb.rnn_forward(np.zeros((4, 2, 3)), np.zeros((2, 5)), np.zeros((5, 5)), np.zeros((5, 4))),
         r"\(5, 4\)"),
        (lambda: nb.normalize(np.zeros((2, 3, 4)), ("N",)), r"\(2, 3, 4\)"),
        (lambda: nb.normalize(np.zeros((2, 3, 4, 4)), ("H", "H")), r"\('H', 'H'\)"),
        (lambda: nb.normalize(np.zeros((2, 3, 4, 4)), (0, 2, 3)), r"\(0, 2, 3\)"),
        (lambda: nb.group_norm(np.zeros((2, 6, 4, 4)), 4), "C = 6"),
        (lambda: nb.statistic_index((2, 6, 4, 4), ("C",)), r"\('C',\)"),
        (lambda: nb.bn_rnn_forward(np.zeros((4, 2, 3)), np.zeros((2, 5)), np.zeros((5, 5)), np.zeros((5, 3)),
                                   stats=(np.zeros((3, 4)), np.ones((3, 4)))), r"\(T_max, 5\)"),
        (lambda: nb.bn_rnn_forward(np.zeros((4, 2, 3)), np.zeros((2, 5)), np.zeros((5, 5)), np.zeros((5, 3)),
                                   beyond="skip"), "'skip'"),
    ],
)
def test_wrong_shapes_raise_value_errors_that_name_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_export_cells_define_the_functions_the_chapter_uses():
    names = {"layer_norm", "batch_norm_train", "batch_norm_infer", "rnn_forward", "bn_rnn_forward", "relu",
             "normalize", "VIEW_AXES",
             "statistic_index", "batch_norm_nchw", "layer_norm_nchw", "instance_norm", "group_norm",
             "NORM_AXES", "normalized_summed_inputs", "invariance_table", "is_invariant", "TRANSFORMATIONS"}
    assert names <= set(vars(nb))
    assert list(nb.NORM_AXES) == ["BN", "LN", "IN", "GN"]


def test_axis_names_are_the_sets_of_wu_and_he_in_the_grouped_view():
    """The view (N, G, C/G, H, W): GN is LN without the group axis; BN keeps both channel axes, IN too."""
    assert nb.VIEW_AXES == ("N", "G", "C/G", "H", "W")
    assert set(nb.NORM_AXES["BN"]) == {"N", "H", "W"}
    assert set(nb.NORM_AXES["LN"]) == {"G", "C/G", "H", "W"}
    assert set(nb.NORM_AXES["IN"]) == {"H", "W"}
    assert set(nb.NORM_AXES["GN"]) == set(nb.NORM_AXES["LN"]) - {"G"}


@FAST
@given(data=tensors_and_groups(), method=st.sampled_from(("BN", "LN", "IN")))
def test_bn_ln_in_do_not_depend_on_the_number_of_groups_of_the_view(data, method):
    """Only GN's axes split the two channel axes, so only GN changes with `groups`."""
    x, G = data
    np.testing.assert_array_equal(nb.statistic_index(x.shape, nb.NORM_AXES[method], G),
                                  nb.statistic_index(x.shape, nb.NORM_AXES[method], 1))
    np.testing.assert_allclose(nb.normalize(x, nb.NORM_AXES[method], G), nb.normalize(x, nb.NORM_AXES[method]),
                               rtol=1e-12, atol=1e-12)


def test_group_norm_changes_with_the_number_of_groups():
    x = np.random.default_rng(3).normal(size=(2, 6, 3, 3))
    outputs = [nb.group_norm(x, G) for G in (1, 2, 3, 6)]
    for i in range(len(outputs)):
        for j in range(i + 1, len(outputs)):
            assert np.abs(outputs[i] - outputs[j]).max() > 1e-3


# --------------------------------------------------------------------------- BN-RNN past T_max

def _bn_rnn_model(seed, H=16, D=8):
    rng = np.random.default_rng(seed)
    W_hh = rng.standard_normal((H, H)) / np.sqrt(H)
    W_xh = rng.standard_normal((H, D)) / np.sqrt(D)
    return rng, W_hh, W_xh, np.ones(H), rng.normal(0.0, 0.1, size=H)


def _step_statistics(rng, W_hh, W_xh, g, b, T, n):
    H, D = W_xh.shape
    return nb.bn_rnn_forward(rng.standard_normal((T, n, D)), np.zeros((n, H)), W_hh, W_xh, b, g)[1]


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_bn_rnn_training_mode_normalizes_every_step_over_the_batch(seed):
    rng, W_hh, W_xh, g, b = _bn_rnn_model(seed, H=6, D=3)
    x, h0 = rng.normal(size=(5, 7, 3)), rng.normal(size=(7, 6))
    h_seq, (means, variances) = nb.bn_rnn_forward(x, h0, W_hh, W_xh, b, g, eps=0.0)
    h = h0
    for t in range(len(x)):
        a = h @ W_hh.T + x[t] @ W_xh.T
        np.testing.assert_allclose(means[t], a.mean(axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(variances[t], a.var(axis=0), rtol=1e-12, atol=1e-12)
        h = np.tanh(g * (a - a.mean(axis=0)) / a.std(axis=0) + b)
        np.testing.assert_allclose(h_seq[t], h, rtol=1e-10, atol=1e-12)
    # inference with the statistics it just used reproduces training mode exactly
    h_inf, _ = nb.bn_rnn_forward(x, h0, W_hh, W_xh, b, g, stats=(means, variances), eps=0.0)
    np.testing.assert_allclose(h_inf, h_seq, rtol=1e-12, atol=1e-12)


def test_bn_rnn_has_no_statistics_past_the_training_length():
    rng, W_hh, W_xh, g, b = _bn_rnn_model(0)
    stats = _step_statistics(rng, W_hh, W_xh, g, b, T=10, n=64)
    x = rng.standard_normal((30, 4, 8))
    with pytest.raises(ValueError, match=r"t = 10.*T_max = 10"):
        nb.bn_rnn_forward(x, np.zeros((4, 16)), W_hh, W_xh, b, g, stats=stats)
    h, (used_m, used_v) = nb.bn_rnn_forward(x, np.zeros((4, 16)), W_hh, W_xh, b, g, stats=stats, beyond="reuse")
    assert h.shape == (30, 4, 16)
    np.testing.assert_array_equal(used_m[10:], np.broadcast_to(stats[0][-1], (20, 16)))
    np.testing.assert_array_equal(used_v[:10], stats[1])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_reusing_the_last_statistics_costs_nothing_measurable_once_they_have_settled(seed):
    """The chapter's claim about fig-ln-bn-rnn: past T_max = 10, reusing step 9's statistics
    differs from the full-length reference by no more than re-estimating the reference does;
    reusing step 0's statistics (T_max = 1, before they settle) differs several times more.
    If the per-step statistics kept drifting, or did not differ at t = 0, this would fail."""
    rng, W_hh, W_xh, g, b = _bn_rnn_model(seed)
    n, T_max, T_test = 2048, 10, 30
    stats = lambda T: _step_statistics(rng, W_hh, W_xh, g, b, T, n)
    x = rng.standard_normal((T_test, 256, 8))
    run = lambda s: nb.bn_rnn_forward(x, np.zeros((256, 16)), W_hh, W_xh, b, g, stats=s, beyond="reuse")[0]
    ref = run(stats(T_test))
    gap = lambda s: np.sqrt(((run(s) - ref) ** 2).mean(axis=(1, 2)))[T_max:].mean()
    noise = np.mean([gap(stats(T_test)) for _ in range(3)])
    assert gap(stats(T_max)) < 1.5 * noise
    assert gap(stats(1)) > 2.5 * noise


def test_test_batch_statistics_make_a_sequence_depend_on_its_batch_but_layer_norm_does_not():
    rng, W_hh, W_xh, g, b = _bn_rnn_model(5)
    stats = _step_statistics(rng, W_hh, W_xh, g, b, T=10, n=256)
    x = rng.standard_normal((30, 8, 8))
    h0 = np.zeros((4, 16))
    bn_1 = nb.bn_rnn_forward(x[:, :4], h0, W_hh, W_xh, b, g, stats=stats, beyond="batch")[0]
    bn_2 = nb.bn_rnn_forward(x[:, [0, 5, 6, 7]], h0, W_hh, W_xh, b, g, stats=stats, beyond="batch")[0]
    np.testing.assert_allclose(bn_1[:10, 0], bn_2[:10, 0], rtol=1e-12, atol=1e-12)   # stored statistics
    assert np.abs(bn_1[10:, 0] - bn_2[10:, 0]).max() > 0.1                            # batch statistics
    ln_1 = nb.rnn_forward(x[:, :4], h0, W_hh, W_xh, b, g)[0]
    ln_2 = nb.rnn_forward(x[:, [0, 5, 6, 7]], h0, W_hh, W_xh, b, g)[0]
    np.testing.assert_allclose(ln_1[:, 0], ln_2[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_per_neuron_statistics_after_the_first_step_differ_only_by_estimation_noise(seed):
    """The chapter's reading of the per-step statistics, neuron by neuron: for t >= 1 each neuron's
    mean and standard deviation differ from those of step T_max - 1 by about as much as two
    independent estimates of the same step differ; at t = 0 (hidden state 0) the standard deviation
    differs several times more.  A drift that kept going, or no difference at t = 0, fails this."""
    rng, W_hh, W_xh, g, b = _bn_rnn_model(seed)
    (m1, v1), (m2, v2) = (_step_statistics(rng, W_hh, W_xh, g, b, T=30, n=2048) for _ in range(2))
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    late, last = slice(1, 30), 9
    noise_sd = np.abs(s2[late] / s1[late] - 1).max()
    noise_mean = (np.abs(m2[late] - m1[late]) / s1[late]).max()
    assert np.abs(s1[late] / s1[last] - 1).max() < 2.0 * noise_sd
    assert (np.abs(m1[late] - m1[last]) / s1[last]).max() < 2.0 * noise_mean
    assert np.abs(s1[0] / s1[last] - 1).max() > 2.5 * noise_sd


def test_the_quiz_statement_is_instance_norm_with_tokens_as_the_spatial_axis():
    """The quiz's per-feature statistics over the tokens of a sequence are IN, not BN and not LN."""
    rng = np.random.default_rng(7)
    X = rng.normal(0.0, 2.0, size=(3, 6, 5)) + rng.normal(0.0, 3.0, size=(1, 1, 5))   # (seq, tok, d)
    per_feature = (X - X.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + 1e-5)
    as_nchw = X.transpose(0, 2, 1)[..., None]                                      # (seq, d, tok, 1)
    as_in = nb.instance_norm(as_nchw)[..., 0].transpose(0, 2, 1)
    np.testing.assert_allclose(per_feature, as_in, rtol=1e-12, atol=1e-12)
    for other in (nb.batch_norm_nchw(as_nchw), nb.layer_norm_nchw(as_nchw)):
        assert np.abs(other[..., 0].transpose(0, 2, 1) - per_feature).max() > 0.1
