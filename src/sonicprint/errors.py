"""Exceptions raised by Sonicprint. Each names the file (where there is one) and the problem."""

from __future__ import annotations

from pathlib import Path


class SonicprintError(Exception):
    """Base class of every error Sonicprint raises on purpose."""


class ConfigError(SonicprintError, ValueError):
    """A configuration value or key is wrong."""


class FileProblem(SonicprintError):
    """A problem with one file: the message always starts with the file's path."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[FileProblem], tuple[str, str]]:
        # Rebuilt from both parts: a worker process hands its FileProblem back pickled, and the default
        # (the message alone) cannot be rebuilt, which breaks the whole process pool.
        return (type(self), (self.path, self.problem))


class AudioDecodeError(FileProblem):
    """No decoding backend could read the file (corrupt, empty, not audio, ...)."""


class AudioTooShortError(FileProblem):
    """The file decodes but holds less audio than the run needs."""


class ManifestError(FileProblem):
    """A labels file (manifest) is missing, unreadable or lacks a required column."""


class WorkspaceError(FileProblem):
    """The workspace's database cannot be opened: damaged, or not a Sonicprint workspace."""


class ModelFormatError(FileProblem):
    """A saved model cannot be loaded: wrong format, incompatible version, or damaged."""


class CheckpointError(FileProblem):
    """A pretrained checkpoint is missing or damaged."""
