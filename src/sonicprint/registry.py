"""Named registries for pluggable parts (features, models, networks, separators, executors, decoders).

Modelled on timm's ``register_model`` / ``create_model`` / ``list_models``: registering a name twice
raises, and asking for an unknown name raises an error that lists the known ones.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A registry was asked for a name it does not hold."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0])


class DuplicateNameError(ValueError):
    """A name was registered twice in one registry."""


class UnknownParameterError(ValueError):
    """A registered part was given a constructor argument it does not take."""


class Registry(Generic[T]):
    """A mapping from names to factories of one kind of part.

    Parameters
    ----------
    kind : str
        What the registry holds ("feature extractor", "model", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name``."""

        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        if name in self._entries:
            raise DuplicateNameError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def check_params(
        self, name: str, params: Mapping[str, object], *, set_by_caller: Sequence[str] = ()
    ) -> None:
        """Fail when ``params`` holds an argument that ``name``'s factory does not take, before anything is
        built or read (a misspelt ``--model-param`` would otherwise surface as a TypeError mid-run).

        ``set_by_caller``: arguments the caller fills in itself (a network's input and output sizes).

        Raises
        ------
        UnknownNameError
            When ``name`` is not registered.
        UnknownParameterError
            Naming the first argument it does not take, and listing the ones it takes.
        """
        factory = self.get(name)
        assert callable(factory)  # every registry holds factories: classes or functions
        signature = inspect.signature(factory)
        accepted = [
            parameter.name
            for parameter in signature.parameters.values()
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
            and parameter.name not in set_by_caller
        ]
        if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return
        for key in params:
            if key in set_by_caller:
                raise UnknownParameterError(
                    f"{self.kind} {name!r}: {key!r} is set by Sonicprint, not a parameter"
                )
            if key not in accepted:
                takes = ", ".join(accepted) or "(none)"
                raise UnknownParameterError(
                    f"{self.kind} {name!r} takes no parameter {key!r}; it takes: {takes}"
                )

    def create(
        self, name: str, params: Mapping[str, object], *, fixed: Mapping[str, object] | None = None
    ) -> object:
        """``name``'s factory called with the user's ``params`` (checked by :meth:`check_params` first) and
        the arguments the caller fills in itself (``fixed``).

        Raises
        ------
        UnknownNameError
            When no part is registered as ``name`` (the message lists the known ones).
        UnknownParameterError
            When ``params`` holds an argument the part does not take (the message lists those it takes).
        """
        fixed = dict(fixed or {})
        self.check_params(name, params, set_by_caller=tuple(fixed))
        factory: Callable[..., object] = self.get(name)  # type: ignore[assignment]
        return factory(**fixed, **params)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def describe(self, name: str) -> str:
        """The first sentence of ``name``'s docstring, on one line ("" when it has none)."""
        doc = inspect.getdoc(self.get(name)) or ""
        paragraph = " ".join(doc.split("\n\n", 1)[0].split())
        # reStructuredText roles and literals read as plain text on a terminal
        paragraph = re.sub(r":\w+:`~?(?:[\w.]*\.)?([^`]+)`", r"\1", paragraph).replace("``", "")
        sentence, dot, _ = paragraph.partition(". ")
        return sentence + ("." if dot else "")

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
