"""Training on windows, deciding per track."""

from __future__ import annotations

import numpy as np

from sonicprint.models import (
    create_model,
    distinct_windows,
    embed_tracks,
    fit_tracks,
    fuse_probabilities,
    predict_tracks,
    predict_windows,
    tracks_from_windows,
)


def _windows(rng, n_tracks=20, n_windows=4, dim=3):
    labels = np.arange(n_tracks) % 2
    centres = np.where(labels[:, None, None] == 1, 1.0, -1.0)
    return centres + rng.standard_normal((n_tracks, n_windows, dim)), labels


def test_windows_are_training_rows_and_the_track_verdict_fuses_them():
    rng = np.random.default_rng(0)
    features, labels = _windows(rng)
    model = fit_tracks(create_model("logreg"), features, labels, n_classes=2, per_window=True)
    tracks = predict_tracks(model, features, per_window=True)
    assert tracks.shape == (20, 2)
    windows = model.predict_proba(features.reshape(80, -1)).reshape(20, 4, 2)
    np.testing.assert_allclose(tracks, fuse_probabilities([windows[:, k] for k in range(4)]))
    np.testing.assert_array_equal(predict_windows(model, features), windows)  # row k*4+j is window j
    np.testing.assert_array_equal(tracks_from_windows(windows), tracks)
    assert np.mean(tracks.argmax(1) == labels) >= 0.9
    assert embed_tracks(model, features, per_window=True).shape[0] == 20


def test_whole_track_features_pass_straight_through():
    rng = np.random.default_rng(1)
    features, labels = _windows(rng)
    flat = features.mean(axis=1)
    model = fit_tracks(create_model("lda"), flat, labels, n_classes=2, per_window=False)
    np.testing.assert_array_equal(predict_tracks(model, flat, per_window=False), model.predict_proba(flat))


def test_a_repeated_window_counts_once():
    features = np.random.default_rng(2).standard_normal((3, 4, 2, 3))  # windows of any shape
    features[0, 1:] = features[0, 0]  # a short track: one window filling every row
    features[1, 3] = features[1, 1]  # a copy further on
    keep = distinct_windows(features)
    assert keep.dtype == bool and keep.shape == (3, 4)
    np.testing.assert_array_equal(
        keep, [[True, False, False, False], [True, True, True, False], [True, True, True, True]]
    )
