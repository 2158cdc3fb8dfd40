"""Clips cut inside each part of a split, and classes balanced by sampling clips."""

from __future__ import annotations

import numpy as np

from sonicprint.deep.clips import balanced_sample, cut_clips
from sonicprint.deep.train import ClipSet


def test_clips_are_cut_inside_each_part_and_stay_in_their_track():
    clips = cut_clips([100, 30, 250], clip=50, hop=25)
    assert [(c.track, c.start) for c in clips if c.track == 0] == [(0, 0), (0, 25), (0, 50)]
    assert [c.start for c in clips if c.track == 1] == [0]  # shorter than a clip: one (padded) clip
    assert all(c.start + 50 <= 250 for c in clips if c.track == 2)
    tracks = [[np.zeros(100, np.float32)], [np.zeros(60, np.float32), np.zeros(80, np.float32)]]
    clip_set = ClipSet.cut(tracks, [0, 1], clip_samples=40, hop_samples=20)
    assert set(clip_set.clip_track.tolist()) == {0, 1}
    assert all(len(clip_set.audio(i)) == 40 for i in range(len(clip_set)))


def test_balanced_sampling_equalises_classes_without_copying_tracks():
    labels = [0] * 90 + [1] * 10
    picks = balanced_sample(labels, n=20000, rng=np.random.default_rng(0))
    share = np.mean(np.asarray(labels)[picks] == 1)
    assert 0.47 < share < 0.53
