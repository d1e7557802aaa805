"""clip-after-step: step() applies the unclipped gradients; the clip comes too late."""

from ._common import *
from ._clipping import *

measure = measure_clipping


def check(m):
    assert m["steps_over_threshold"] == m["steps"], "every step should apply unclipped gradients"
    assert m["norm_seen_by_clip_max"] > m["threshold"], "the clip still runs, on used gradients"
