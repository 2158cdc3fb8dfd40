from __future__ import annotations

import pytest

from sonicprint.registry import DuplicateNameError, Registry, UnknownNameError, UnknownParameterError


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


def test_check_params_names_the_unknown_argument_and_lists_the_accepted_ones():
    registry: Registry[object] = Registry("gadget")

    class Gadget:
        def __init__(self, size: int, width: int = 2, *, depth: int = 1) -> None: ...

    def flexible(size: int, **anything: object) -> None: ...

    registry.add("g", Gadget)
    registry.add("f", flexible)
    registry.check_params("g", {"width": 3, "depth": 2})
    registry.check_params("f", {"whatever": 1})  # takes any keyword
    with pytest.raises(
        UnknownParameterError, match=r"gadget 'g' takes no parameter 'widht'; it takes: width, depth"
    ):
        registry.check_params("g", {"widht": 3}, set_by_caller=("size",))
    with pytest.raises(
        UnknownParameterError, match=r"gadget 'g': 'size' is set by Sonicprint, not a parameter"
    ):
        registry.check_params("g", {"size": 3}, set_by_caller=("size",))
    with pytest.raises(UnknownNameError, match="unknown gadget 'h'"):
        registry.check_params("h", {})
    made = registry.create("g", {"width": 5}, fixed={"size": 7})  # the caller's arguments and the user's
    assert isinstance(made, Gadget)
    with pytest.raises(UnknownParameterError, match="'size' is set by Sonicprint"):
        registry.create("g", {"size": 1}, fixed={"size": 7})


def test_describe_gives_the_first_sentence_of_the_docstring_as_plain_text():
    registry: Registry[object] = Registry("thing")

    @registry.register("documented")
    def documented() -> None:
        """Standardize -> :func:`~sonicprint.models.fuse_probabilities` of ``(n, d)``
        inputs. More detail here.

        Parameters follow."""

    registry.add("bare", lambda: None)
    assert registry.describe("documented") == "Standardize -> fuse_probabilities of (n, d) inputs."
    assert registry.describe("bare") == ""


def _every_registry():  # type: ignore[no-untyped-def]
    from sonicprint.deep.networks import NETWORKS
    from sonicprint.executors import EXECUTORS
    from sonicprint.features import EXTRACTORS
    from sonicprint.models import MODELS
    from sonicprint.separation import SEPARATORS

    return [EXTRACTORS, MODELS, NETWORKS, EXECUTORS, SEPARATORS]


@pytest.mark.parametrize("registry", _every_registry(), ids=lambda r: r.kind)
def test_every_registered_part_says_what_it_is(registry):
    for name in registry.names():
        description = registry.describe(name)
        assert description.endswith((".", ")")) and len(description) > 20, (name, description)
        assert "``" not in description and ":func:" not in description
