"""Evaluation: grouped splits, metrics (mir_eval style), paired model comparison and 2-D maps."""

from . import compare
from .maps import MAPS, embedding_map
from .metrics import (
    UNKNOWN_THRESHOLDS,
    accuracy,
    answered_accuracy,
    background_summary,
    brier_score,
    chance_level,
    confusion,
    evaluate,
    expected_calibration_error,
    one_vs_all,
    precision_recall_f1,
    reliability,
    top_k_accuracy,
    unknown_share,
    validate,
)
from .splits import (
    crossing_groups,
    kfold_splits,
    label_seen_in_training,
    not_scored_note,
    require_background_tracks,
    require_scored_tracks,
    train_val_test_split,
)

__all__ = [
    "MAPS",
    "UNKNOWN_THRESHOLDS",
    "accuracy",
    "answered_accuracy",
    "background_summary",
    "brier_score",
    "chance_level",
    "compare",
    "confusion",
    "crossing_groups",
    "embedding_map",
    "evaluate",
    "expected_calibration_error",
    "kfold_splits",
    "label_seen_in_training",
    "not_scored_note",
    "one_vs_all",
    "precision_recall_f1",
    "reliability",
    "require_background_tracks",
    "require_scored_tracks",
    "top_k_accuracy",
    "train_val_test_split",
    "unknown_share",
    "validate",
]
