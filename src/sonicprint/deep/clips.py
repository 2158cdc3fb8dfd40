"""Clips: fixed-length pieces of tracks, cut *after* the split so no track has clips on two sides.

Pure functions of track lengths and an explicit rng; the audio itself is sliced elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clip:
    """``track`` (an index into the part's track list) and the clip's start in samples."""

    track: int
    start: int


def cut_clips(lengths: Sequence[int], *, clip: int, hop: int) -> list[Clip]:
    """Every clip of ``clip`` samples, ``hop`` apart, of tracks with the given lengths (in samples).

    A track shorter than one clip gives one clip (padded when sliced).
    """
    if clip <= 0 or hop <= 0:
        raise ValueError("clip and hop must be positive")
    clips: list[Clip] = []
    for track, length in enumerate(lengths):
        starts = range(0, max(length - clip, 0) + 1, hop)
        clips.extend(Clip(track, s) for s in starts)
    return clips


def balanced_sample(
    clip_labels: Sequence[int] | np.ndarray, *, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` clip indices drawn so that every label is equally likely (clips, not tracks, are resampled)."""
    labels = np.asarray(clip_labels)
    present, counts = np.unique(labels, return_counts=True)
    weight_of = dict(zip(present.tolist(), (1.0 / counts).tolist()))
    p = np.array([weight_of[lab] for lab in labels.tolist()])
    return rng.choice(len(labels), size=n, replace=True, p=p / p.sum())


def slice_clip(audio: np.ndarray, start: int, clip: int) -> np.ndarray:
    """``audio[start:start + clip]``, zero-padded to ``clip`` samples."""
    piece = audio[start : start + clip]
    if len(piece) < clip:
        piece = np.pad(piece, (0, clip - len(piece)))
    return piece
