"""The one thinning routine (mmdmtl.utils.thinning) and its two users."""
import numpy as np
import pytest

from mmdmtl.utils.thinning import thin_binary


def _grid(rows):
    return np.array([[c == '#' for c in r] for r in rows], dtype=bool)


def test_thin_binary_hand_made_cases():
    # A 3x3 square shrinks to its centre pixel (MATLAB bwmorph 'thin' Inf).
    # In the first sub-iteration the top-left corner has x1 (E), x7 (S) and
    # x8 (SE) set: one 0->1 transition (G1), min(n1, n2) = 2 (G2) and
    # (x2 | x3 | ~x8) & x1 = 0 (G3), so it is deleted, like every other
    # pixel but the centre over the two sub-iterations.
    square = _grid(['.....',
                    '.###.',
                    '.###.',
                    '.###.',
                    '.....'])
    np.testing.assert_array_equal(thin_binary(square), _grid(['.....',
                                                             '.....',
                                                             '..#..',
                                                             '.....',
                                                             '.....']))
    # A 3-thick bar becomes its middle row without the end pixels.
    bar = _grid(['.......',
                 '.#####.',
                 '.#####.',
                 '.#####.',
                 '.......'])
    np.testing.assert_array_equal(thin_binary(bar), _grid(['.......',
                                                          '.......',
                                                          '..###..',
                                                          '.......',
                                                          '.......']))
    # An object with a hole shrinks to an 8-connected ring around the hole.
    ring = _grid(['.......',
                  '.#####.',
                  '.#####.',
                  '.##.##.',
                  '.#####.',
                  '.#####.',
                  '.......'])
    expected = _grid(['.......',
                      '.......',
                      '...#...',
                      '..#.#..',
                      '...#...',
                      '.......',
                      '.......'])
    np.testing.assert_array_equal(thin_binary(ring), expected)
    # one-pixel-wide curves are left alone; a stack is thinned per map
    np.testing.assert_array_equal(thin_binary(expected), expected)
    stacked = thin_binary(np.stack([ring, np.pad(square, 1)]))
    np.testing.assert_array_equal(stacked[0], expected)
    np.testing.assert_array_equal(stacked[1], np.pad(thin_binary(square), 1))
    with pytest.raises(ValueError, match=r'expects \(H, W\) or \(N, H, W\)'):
        thin_binary(np.zeros((1, 2, 3, 4), bool))


def test_edge_ground_truth_and_boundary_metric_share_the_routine():
    from mmdmtl.datasets.transforms import edge_utils, label_map_to_edges
    from mmdmtl.evaluation.functional import boundary
    assert boundary.thin_binary is thin_binary
    assert edge_utils.thin is thin_binary
    # Edge ground truth of a vertical label boundary: the Laplacian marks a
    # 2-pixel band (columns 2 and 3), thinned to one column.
    label_map = np.zeros((5, 6), np.uint16)
    label_map[:, 3:] = 5
    np.testing.assert_array_equal(
        label_map_to_edges(label_map),
        _grid(['......', '..#...', '..#...', '..#...', '..#...']).astype(np.uint8))
