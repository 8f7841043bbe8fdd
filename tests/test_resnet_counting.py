"""Parameter and multiply-add counting of the ResNet chapter (notebooks/resnet.ipynb).

The functions under test are the notebook's own ``export`` cells.  Expected values are
either worked out by hand in the test (k*k*c_in*c_out for one layer, the sum over a block)
or published independently of this code: torchvision's model documentation lists
``num_params`` and "GFLOPS" (multiply-adds) for its ResNets, and Table 1 of the ResNet paper (He et al., 2016)
gives the FLOPs of the paper's variant.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbload import load_notebook

nb = load_notebook("resnet")

FAST = settings(max_examples=50, deadline=None, derandomize=True)

# torchvision documentation (ResNet*_Weights.IMAGENET1K_V1): num_params and GFLOPS.
TORCHVISION = {18: (11_689_512, 1.81), 50: (25_557_032, 4.09), 152: (60_192_808, 11.51)}
# ResNet paper (He et al., 2016), Table 1: FLOPs (multiply-adds) in units of 1e9.
PAPER_TABLE1 = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}


def test_conv_params_of_a_small_layer_counted_by_hand():
    # 3x3 kernel, 2 input and 4 output channels: 4 filters of 3*3*2 = 18 weights, plus 4 biases.
    assert nb.conv_params(3, 2, 4) == 72
    assert nb.conv_params(3, 2, 4, bias=True) == 76
    assert nb.conv_params(1, 256, 64) == 16_384
    # every one of the 5*5 outputs of each of the 4 channels costs 3*3*2 multiply-adds
    assert nb.conv_macs(3, 2, 4, 5) == 4 * 5 * 5 * 18


def test_figure5_blocks_counted_by_hand():
    assert nb.basic_block_params(64) == 3 * 3 * 64 * 64 + 3 * 3 * 64 * 64 == 73_728
    assert nb.bottleneck_block_params(256, 64) == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 == 69_632


@FAST
@given(st.integers(1, 512))
def test_bottleneck_on_4m_channels_costs_17_18_of_a_basic_block_on_m(m):
    assert 18 * nb.bottleneck_block_params(4 * m, m) == 17 * nb.basic_block_params(m)


@pytest.mark.parametrize("depth", sorted(TORCHVISION))
def test_parameter_counts_match_torchvision(depth):
    assert nb.count_resnet(depth)["total"] == TORCHVISION[depth][0]


@pytest.mark.parametrize("depth", sorted(TORCHVISION))
def test_multiply_adds_with_the_stride_on_the_3x3_match_torchvision_gflops(depth):
    assert round(nb.count_resnet(depth, stride_on="3x3")["macs"] / 1e9, 2) == TORCHVISION[depth][1]


@pytest.mark.parametrize("depth", sorted(PAPER_TABLE1))
def test_multiply_adds_with_the_stride_on_the_first_1x1_are_within_3_percent_of_table1(depth):
    gmacs = nb.count_resnet(depth, stride_on="1x1")["macs"] / 1e9
    assert abs(gmacs / PAPER_TABLE1[depth] - 1) < 0.03


def test_stride_position_changes_compute_but_not_parameters():
    a, b = nb.count_resnet(50, stride_on="1x1"), nb.count_resnet(50, stride_on="3x3")
    assert a["total"] == b["total"]
    assert a["macs"] < b["macs"]


def test_resnet50_breakdown_by_hand():
    r = nb.count_resnet(50)
    assert r["fc"] == 2048 * 1000 + 1000
    # the first block of each stage projects: 64->256, 256->512, 512->1024, 1024->2048
    assert r["projection"] == 64 * 256 + 256 * 512 + 512 * 1024 + 1024 * 2048
    assert r["total"] == r["conv"] + r["projection"] + r["bn"] + r["fc"]


def test_option_a_removes_exactly_the_projections_and_their_bn():
    b, a = nb.count_resnet(34, shortcut="B"), nb.count_resnet(34, shortcut="A")
    # ResNet-34 projects 64->128, 128->256, 256->512; each 1x1 projection has a BN (2 per channel)
    projections = 64 * 128 + 128 * 256 + 256 * 512
    assert b["total"] - a["total"] == projections + 2 * (128 + 256 + 512)
    assert a["projection"] == 0


def test_option_c_projects_every_block():
    convs = nb.resnet_convs(18, shortcut="C")
    assert sum(c["role"] == "projection" for c in convs) == 8  # 2 + 2 + 2 + 2 blocks


def test_layer_count_matches_the_name():
    # weighted layers = stem + residual-branch convolutions + fc
    for depth in (18, 34, 50, 101, 152):
        convs = nb.resnet_convs(depth)
        assert 1 + sum(c["role"] == "residual" for c in convs) + 1 == depth


def test_final_feature_map_is_7x7_for_224_input():
    assert nb.resnet_convs(50)[-1]["out"] == 7


@pytest.mark.parametrize(
    "call",
    [
        lambda: nb.count_resnet(42),
        lambda: nb.count_resnet(50, shortcut="D"),
        lambda: nb.count_resnet(50, stride_on="5x5"),
        lambda: nb.count_resnet(50, image_size=100),
        lambda: nb.conv_params(0, 3, 4),
        lambda: nb.conv_params(3, 2.5, 4),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
