"""Models: a registry of classifiers and their safe serialisation."""

from . import classical as _classical  # noqa: F401  (registers the classical models)
from . import ensemble as _ensemble  # noqa: F401  (registers late fusion)
from . import head as _head  # noqa: F401  (registers the MLP head)
from .base import MODELS, Classifier, create_model, list_models, register_model
from .calibration import (
    apply_temperature,
    calibrate_out_of_fold,
    fit_temperature,
    out_of_fold_temperatures,
)
from .fusion import fuse_probabilities
from .serialize import LoadedModel, load_model, save_model
from .similarity import cosine_similarity, maker_centroids
from .windows import (
    distinct_windows,
    embed_tracks,
    fit_tracks,
    predict_tracks,
    predict_windows,
    tracks_from_windows,
)

__all__ = [
    "MODELS",
    "Classifier",
    "LoadedModel",
    "apply_temperature",
    "calibrate_out_of_fold",
    "cosine_similarity",
    "create_model",
    "distinct_windows",
    "embed_tracks",
    "fit_temperature",
    "fit_tracks",
    "fuse_probabilities",
    "list_models",
    "load_model",
    "maker_centroids",
    "out_of_fold_temperatures",
    "predict_tracks",
    "predict_windows",
    "register_model",
    "save_model",
    "tracks_from_windows",
]
