"""The model registry and the classifier interface every registered model keeps."""

from __future__ import annotations

import pytest

from sonicprint.models import MODELS, Classifier, create_model, list_models, register_model
from sonicprint.registry import DuplicateNameError, UnknownNameError, UnknownParameterError


@pytest.fixture
def scratch_registry(monkeypatch):  # type: ignore[no-untyped-def]
    """Registrations made by a test vanish with it."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))


def test_register_model_names_the_class_and_refuses_a_second_class_under_that_name(scratch_registry):
    @register_model("always_first")
    class AlwaysFirst:
        def __init__(self, *, bias: float = 1.0) -> None:
            self.params = {"bias": bias}

    assert AlwaysFirst.name == "always_first" and "always_first" in list_models()  # type: ignore[attr-defined]
    assert create_model("always_first", bias=2.0).params == {"bias": 2.0}
    with pytest.raises(DuplicateNameError, match="model 'always_first' is already registered"):
        register_model("always_first")(type("Other", (), {}))
    assert MODELS.get("always_first") is AlwaysFirst


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_keeps_the_classifier_interface_under_its_own_name(name):
    model = create_model(name)
    assert isinstance(model, Classifier) and model.name == name and isinstance(model.params, dict)


def test_asking_for_what_is_not_there_lists_what_is():
    with pytest.raises(UnknownNameError, match=r"unknown model 'svm'; known: .*lda"):
        create_model("svm")
    with pytest.raises(UnknownParameterError, match="n_neighbours"):
        create_model("knn_pca", n_neighbours=3)
