"""Features: pure spectral functions and a registry of extractors."""

from .extractors import (
    EXTRACTORS,
    Extractor,
    create_extractor,
    list_extractors,
    register_extractor,
    seed_feature_config,
)

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "create_extractor",
    "list_extractors",
    "register_extractor",
    "seed_feature_config",
]
