"""clip-before-backward: the clip sees no gradients, so step() applies unclipped ones."""

from ._common import *
from ._clipping import *

measure = measure_clipping


def check(m):
    assert m["norm_seen_by_clip_max"] == 0.0, "the clip should find no gradients to clip"
    assert m["steps_over_threshold"] == m["steps"], "every step should apply unclipped gradients"
