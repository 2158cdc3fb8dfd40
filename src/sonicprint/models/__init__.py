"""Models: a registry of classifiers and their safe serialisation."""

from . import classical as _classical  # noqa: F401  (registers the classical models)
from . import head as _head  # noqa: F401  (registers the MLP head)
from .base import MODELS, Classifier, create_model, list_models, register_model
from .fusion import fuse_probabilities
from .serialize import LoadedModel, load_model, save_model

__all__ = [
    "MODELS",
    "Classifier",
    "LoadedModel",
    "create_model",
    "fuse_probabilities",
    "list_models",
    "load_model",
    "register_model",
    "save_model",
]
