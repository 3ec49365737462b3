"""A 1x1 prediction conv with a two-class softmax output for binary tasks."""
from torch import Tensor, nn


class TwoClassLogitConv(nn.Conv2d):
    """1x1 conv to two class logits, returned as one binary logit.

    The official DiffusionMTL code predicts saliency with two channels, a
    softmax over them and a class-balanced cross-entropy. Since
    ``softmax(l)[1] = sigmoid(l1 - l0)`` and the two-class cross-entropy of
    ``(l0, l1)`` equals the binary cross-entropy of ``l1 - l0`` (with the
    same class weights), this module keeps the official parameterisation
    (two output filters, each with its own init and optimiser state) and
    hands the rest of mmdmtl the equivalent single logit ``l1 - l0``, so
    losses, post-processing and metrics are unchanged.

    Args:
        in_channels: Input width.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, 1, H, W) logit of the positive class."""
        out = super().forward(x)
        return out[:, 1:2] - out[:, 0:1]
