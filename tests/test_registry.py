from __future__ import annotations

import pytest

from sonicprint.registry import DuplicateNameError, Registry, UnknownNameError


def test_register_get_and_list():
    registry: Registry[int] = Registry("thing")

    @registry.register("b")
    def b() -> int:
        return 2

    registry.add("a", 1)  # type: ignore[arg-type]
    assert registry.names() == ["a", "b"]
    assert registry.get("b")() == 2
    assert "a" in registry and len(registry) == 2


def test_duplicate_and_unknown_names():
    registry: Registry[int] = Registry("widget")
    registry.add("x", 1)
    with pytest.raises(DuplicateNameError, match="widget 'x' is already registered"):
        registry.add("x", 2)
    with pytest.raises(UnknownNameError, match=r"unknown widget 'y'; known: x"):
        registry.get("y")
