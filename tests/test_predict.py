from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from sonicprint.cli import main
from sonicprint.errors import FileProblem
from sonicprint.predict import Predictor, embed_files, find_similar


def test_an_embedding_is_a_deterministic_vector(trained):
    model, query = trained
    predictor = Predictor(model)
    first, again = predictor.embed(query), predictor.embed(query)
    assert first.ndim == 1 and first.dtype == np.float32 and np.all(np.isfinite(first))
    np.testing.assert_array_equal(first, again)


def test_embedding_a_batch_goes_on_past_a_bad_file(trained, tmp_path):
    model, query = trained
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"not audio" * 100)
    found = embed_files(model, [query, bad, query])
    assert found.paths == [str(query), str(query)] and found.vectors.shape[0] == 2
    assert found.errors[0][0] == str(bad) and "not readable as audio" in found.errors[0][1]


def test_the_query_itself_is_the_most_similar_file(trained, tmp_path):
    model, query = trained
    others = sorted(p for p in query.parent.iterdir() if p != query)
    copy = tmp_path / "copy.flac"
    shutil.copy(query, copy)
    ranked, errors = find_similar(model, query, [*others, copy], top_n=2)
    assert not errors and len(ranked) == 2
    assert ranked[0][0] == str(copy) and ranked[0][1] == pytest.approx(1.0, abs=1e-6)
    assert ranked[0][1] >= ranked[1][1]


def test_an_unreadable_query_is_an_error_naming_it(trained, tmp_path):
    bad = tmp_path / "query.wav"
    bad.write_bytes(b"")
    with pytest.raises(FileProblem, match=r"query\.wav: "):
        find_similar(trained[0], bad, [trained[1]])


def test_embed_and_similar_from_the_command_line(trained, tmp_path, capsys):
    model, query = trained
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF")
    out = tmp_path / "e" / "emb.npz"
    assert main(["embed", str(model), str(query), str(bad), "--out", str(out)]) == 1  # one file failed
    assert "bad.wav: ERROR" in capsys.readouterr().err
    with np.load(out) as stored:
        assert list(stored["paths"]) == [str(query)]
        np.testing.assert_allclose(stored["embeddings"][0], Predictor(model).embed(query))
    assert main(["similar", str(model), str(query), str(query), "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert ranked[0]["path"] == str(query) and ranked[0]["similarity"] == pytest.approx(1.0, abs=1e-4)
