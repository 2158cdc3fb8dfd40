from __future__ import annotations

import csv
import json
import os
import shutil

import numpy as np
import pytest
import soundfile as sf

from sonicprint.cli import main
from sonicprint.errors import ConfigError, FileProblem
from sonicprint.models import create_model
from sonicprint.predict import (
    RESULT_COLUMNS,
    Predictor,
    describe_model,
    embed_files,
    embed_to_npz,
    find_like_maker,
    find_similar,
    iter_predictions,
    load_index,
    predict_files,
    predict_to_csv,
)


def test_silent_or_too_short_files_get_an_error_not_a_verdict(trained, tmp_path):
    model, query = trained
    predictor = Predictor(model)
    silent, short = tmp_path / "silent.wav", tmp_path / "blip.wav"
    sf.write(silent, np.zeros(22050 * 3, dtype=np.float32), 22050)
    sf.write(short, 0.5 * np.ones(2000, dtype=np.float32), 22050)  # 0.09 s, loud
    direct_current = tmp_path / "dc.wav"  # a constant level, e.g. a float file of NaNs saved as 16-bit PCM
    sf.write(direct_current, np.full(22050 * 3, -1.0, dtype=np.float32), 22050)
    results = [predictor.predict(path) for path in (silent, short, direct_current, query)]
    assert not results[0].verdict and results[0].error.startswith("silent: no sound above -100 dBFS")
    assert not results[1].verdict and results[1].error == (
        "too short: 0.09 s of audio, at least 1 s needed to attribute"
    )
    assert not results[2].verdict and results[2].error.startswith("silent: ")
    assert results[3].error is None and results[3].verdict  # the batch goes on
    with pytest.raises(FileProblem, match=r"silent\.wav: silent"):
        predictor.embed(silent)


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


def test_a_verdict_can_carry_the_embedding_from_the_same_analysis(trained):
    model, query = trained
    predictor = Predictor(model)
    with_embedding, plain = predictor.predict(query, embed=True), predictor.predict(query)
    assert plain.embedding is None and with_embedding.top == plain.top
    np.testing.assert_array_equal(with_embedding.embedding, predictor.embed(query))
    assert "embedding" not in with_embedding.as_dict()


def test_a_damaged_index_is_refused_naming_it(trained, tmp_path):
    model, query = trained
    index = tmp_path / "catalogue.npz"
    embed_to_npz(model, [query], index)
    with np.load(index) as stored:
        sha = str(stored["model_sha256"])
    np.savez(index, paths=np.array(["a.wav", "b.wav"]), embeddings=np.zeros((3, 4)), model_sha256=sha)
    with pytest.raises(FileProblem, match=r"catalogue\.npz: damaged embeddings file: 2 paths"):
        load_index(index, model)


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
    copy = tmp_path / "copy.flac"
    shutil.copy(query, copy)
    # the query's own folder searched: every file but the query itself, options among the paths
    assert (
        main(["similar", str(model), str(query), "--json", str(query.parent), str(copy), "--top", "50"]) == 0
    )
    ranked = json.loads(capsys.readouterr().out)
    paths = [r["path"] for r in ranked]
    assert str(query) not in paths and len(paths) == len(list(query.parent.iterdir()))  # the others + copy
    assert ranked[0]["path"] == str(copy) and ranked[0]["similarity"] == pytest.approx(1.0, abs=1e-4)


def test_an_interrupted_embedding_resumes_where_it_stopped(trained, tmp_path, monkeypatch):
    model, query = trained
    files = []
    for name in ("a", "b", "c", "d"):
        files.append(str(tmp_path / f"{name}.flac"))
        shutil.copy(query, files[-1])
    out = tmp_path / "emb.npz"
    progress = tmp_path / "emb.npz.progress.jsonl"
    calls: list[str] = []
    embed = Predictor.embed

    def interrupted_at_the_third(self, path):  # type: ignore[no-untyped-def]
        calls.append(str(path))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return embed(self, path)

    monkeypatch.setattr(Predictor, "embed", interrupted_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        embed_to_npz(model, files, out)
    assert (
        not out.exists() and len(progress.read_text(encoding="utf-8").splitlines()) == 1 + 2
    )  # header, two files
    with progress.open("a", encoding="utf-8") as handle:
        handle.write('{"path": "' + files[2])  # a line cut short as the process died: done again

    def interrupted_at_once(self, path):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(Predictor, "embed", interrupted_at_once)  # stopped again before any new file
    with pytest.raises(KeyboardInterrupt):
        embed_to_npz(model, files, out)
    assert (
        progress.read_text(encoding="utf-8").endswith("\n")
        and len(progress.read_text(encoding="utf-8").splitlines()) == 3
    )

    calls.clear()
    monkeypatch.setattr(Predictor, "embed", lambda self, path: calls.append(str(path)) or embed(self, path))
    summary = embed_to_npz(model, files, out)
    assert calls == files[2:] and (summary.embedded, summary.skipped, summary.errors) == (2, 2, [])
    assert not progress.exists()
    with np.load(out) as stored:
        assert stored["paths"].tolist() == files
        np.testing.assert_allclose(stored["embeddings"], embed_files(model, files).vectors, rtol=1e-6)
    calls.clear()
    assert embed_to_npz(model, files, out).skipped == len(files) and calls == []  # done: nothing to redo

    np.savez(out, paths=np.array(files), embeddings=np.zeros((4, 3)), model_sha256=np.array("another"))
    with pytest.raises(ConfigError, match=r"emb\.npz holds embeddings of another model"):
        embed_to_npz(model, files, out)


def test_embedding_into_a_file_that_is_not_an_embeddings_file_is_refused_and_leaves_it(trained, tmp_path):
    model, query = trained
    results = tmp_path / "results.csv"
    results.write_text("path,verdict\n", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"results\.csv: not an embeddings file .*; pass a new output file"):
        embed_to_npz(model, [query], results)
    assert results.read_text(encoding="utf-8") == "path,verdict\n"
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(FileProblem, match=r"out: is a folder; pass the embeddings file to write"):
        embed_to_npz(model, [query], folder)
    assert not list(folder.iterdir()) and not (tmp_path / "out.progress.jsonl").exists()


def test_an_embedded_catalogue_is_searched_without_embedding_it_again(trained, tmp_path, monkeypatch, capsys):
    model, query = trained
    catalogue = sorted(str(p) for p in query.parent.iterdir())  # the query's own folder
    index = tmp_path / "catalogue.npz"
    embed_to_npz(model, catalogue, index)
    live = find_similar(model, query, catalogue, top_n=10)
    maker_live = find_like_maker(model, "Producer A", catalogue, top_n=10)
    embedded: list[str] = []
    embed = Predictor.embed
    monkeypatch.setattr(
        Predictor, "embed", lambda self, path: embedded.append(str(path)) or embed(self, path)
    )
    ranked, errors = find_similar(model, query, [], top_n=10, index=index)
    assert embedded == [str(query)] and not errors  # only the query itself is embedded now
    assert [p for p, _ in ranked] == [p for p, _ in live[0]] and str(query) not in [p for p, _ in ranked]
    np.testing.assert_allclose([v for _, v in ranked], [v for _, v in live[0]], rtol=1e-5, atol=1e-6)
    by_maker, _ = find_like_maker(model, "Producer A", [], top_n=10, index=index)
    assert [p for p, _ in by_maker] == [p for p, _ in maker_live[0]]
    assert main(["similar", str(model), str(query), "--index", str(index), "--json"]) == 0
    assert [r["path"] for r in json.loads(capsys.readouterr().out)] == [p for p, _ in ranked]
    with pytest.raises(ConfigError, match="an index holds embeddings, not probabilities"):
        find_like_maker(model, "Producer A", [], index=index, rank_by="probability")
    np.savez(index, paths=np.array(catalogue), embeddings=np.zeros((len(catalogue), 3)), model_sha256="x")
    with pytest.raises(ConfigError, match=r"catalogue\.npz holds embeddings of another model"):
        find_similar(model, query, [], index=index)
    index.write_text("not an npz", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"catalogue\.npz: not an embeddings file"):
        find_similar(model, query, [], index=index)


def _training_tracks(model):  # type: ignore[no-untyped-def]
    """(path, producer) of the tracks the ``trained`` model learnt from (the damaged file and the
    duplicate the generator plants are left out, as the experiment left them out)."""
    data = model.parent.parent / "data"
    with (data / "manifest.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (data / r["path"], r["producer"])
        for r in rows
        if r["path"] != "audio/damaged.flac" and "copy_of_" not in r["path"]
    ]


def test_a_makers_centroid_is_the_mean_direction_of_their_training_tracks(trained):
    model, _ = trained
    predictor = Predictor(model)
    tracks = _training_tracks(model)
    for maker in predictor.labels:
        own = np.stack([predictor.embed(path) for path, producer in tracks if producer == maker])
        unit = own / np.linalg.norm(own, axis=1, keepdims=True)
        np.testing.assert_allclose(predictor.maker_centroid(maker), unit.mean(axis=0), rtol=1e-4, atol=1e-5)


def test_search_by_maker_ranks_their_recordings_first(trained):
    model, _ = trained
    tracks = _training_tracks(model)
    maker = tracks[0][1]
    ranked, errors = find_like_maker(model, maker, [path for path, _ in tracks], top_n=len(tracks))
    assert not errors and len(ranked) == len(tracks)
    producer = {str(path): p for path, p in tracks}
    n_own = sum(p == maker for _, p in tracks)
    assert all(producer[path] == maker for path, _ in ranked[:n_own])  # theirs first, then the rest
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    with pytest.raises(ConfigError, match=r"knows no maker 'Nobody'; it knows: Producer A, Producer B"):
        find_like_maker(model, "Nobody", [tracks[0][0]])
    by_probability, _ = find_like_maker(
        model, maker, [path for path, _ in tracks], top_n=len(tracks), rank_by="probability"
    )
    assert all(producer[path] == maker for path, _ in by_probability[:n_own])
    assert all(0 <= p <= 1 for _, p in by_probability)
    assert [p for _, p in by_probability] == sorted((p for _, p in by_probability), reverse=True)
    with pytest.raises(ConfigError, match="unknown ranking 'loudness'; known: similarity, probability"):
        find_like_maker(model, maker, [tracks[0][0]], rank_by="loudness")


def test_a_model_saved_without_centroids_asks_to_be_trained_again(trained, tmp_path):
    import torch

    payload = torch.load(trained[0], weights_only=True)
    del payload["maker_centroids"]
    old = tmp_path / "old.pt"
    torch.save(payload, old)
    assert Predictor(old).predict(trained[1]).error is None  # everything else still works
    with pytest.raises(ConfigError, match=r"old\.pt was saved without maker centroids"):
        find_like_maker(old, "Producer A", [trained[1]])


def test_similar_by_maker_from_the_command_line(trained, capsys):
    model, query = trained
    assert main(["similar", str(model), str(query), "--maker", "Producer A", "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in ranked] == [str(query)] and -1 <= ranked[0]["similarity"] <= 1
    args = ["similar", str(model), str(query), "--maker", "Producer A", "--rank-by", "probability", "--json"]
    assert main(args) == 0
    assert 0 <= json.loads(capsys.readouterr().out)[0]["probability"] <= 1
    assert main(["similar", str(model)]) == 2
    assert "similar needs a query recording, or --maker NAME" in capsys.readouterr().err


def _batch(trained, tmp_path):  # type: ignore[no-untyped-def]
    """Four inputs: the two held-out queries, a file that is not audio, a copy of the first query."""
    model, query = trained
    queries = sorted(query.parent.iterdir())
    bad = tmp_path / "in" / "bad.wav"
    bad.parent.mkdir()
    bad.write_bytes(b"not audio" * 50)
    copy = tmp_path / "in" / "copy.flac"
    shutil.copy(queries[0], copy)
    return model, [str(q) for q in queries] + [str(bad), str(copy)]


def _rows(path):  # type: ignore[no-untyped-def]
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_batch_writes_each_file_and_resumes_where_it_stopped(trained, tmp_path, monkeypatch):
    model, files = _batch(trained, tmp_path)
    out = tmp_path / "out" / "results.csv"
    first = predict_to_csv(model, files[:2], out, top_k=2)
    assert (first.predicted, first.errors, first.skipped) == (2, 0, 0)
    before = out.read_text(encoding="utf-8")
    asked = []
    original = Predictor.predict

    def counting(self, path, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(str(path))
        return original(self, path, **kwargs)

    monkeypatch.setattr(Predictor, "predict", counting)
    second = predict_to_csv(model, files, out, top_k=2)
    assert asked == files[2:] and (second.predicted, second.errors, second.skipped) == (2, 1, 2)
    assert out.read_text(encoding="utf-8").startswith(before)  # nothing already done is rewritten
    rows = _rows(out)
    assert list(rows[0]) == list(RESULT_COLUMNS) and [r["path"] for r in rows] == files
    bad = rows[2]
    assert bad["verdict"] == "" and "not readable as audio" in bad["error"]
    for row in (rows[0], rows[1], rows[3]):
        labels = [pair.split(":")[0] for pair in row["top"].split(";")]
        assert not row["error"] and row["verdict"] == labels[0] and len(labels) == 2
        assert float(row["probability"]) == float(row["top"].split(";")[0].split(":")[1])
    assert rows[3]["top"] == rows[0]["top"]  # the copy gets the same answer
    settings = json.loads((tmp_path / "out" / "results.csv.json").read_text(encoding="utf-8"))
    assert settings["top_k"] == 2 and len(settings["model_sha256"]) == 64


def test_a_row_cut_short_by_an_interruption_is_predicted_again(trained, tmp_path):
    model, files = _batch(trained, tmp_path)
    out = tmp_path / "results.csv"
    predict_to_csv(model, files[:2], out)
    whole = out.read_text(encoding="utf-8")
    out.write_text(
        whole[: whole.rstrip("\n").rfind("\n") + 12], encoding="utf-8"
    )  # the last row half written, no newline
    again = predict_to_csv(model, files[:2], out)
    assert (again.predicted, again.skipped) == (1, 1)
    timeless = [{k: v for k, v in r.items() if k != "seconds"} for r in _rows(out)]
    out.write_text(whole, encoding="utf-8")
    assert timeless == [{k: v for k, v in r.items() if k != "seconds"} for r in _rows(out)]


def test_a_batch_refuses_to_mix_settings_or_overwrite_another_file(trained, tmp_path):
    model, files = _batch(trained, tmp_path)
    out = tmp_path / "results.csv"
    predict_to_csv(model, files[:1], out, unknown_below=0.5)
    with pytest.raises(ConfigError, match=r"results\.csv was started with other settings \(unknown_below"):
        predict_to_csv(model, files, out, unknown_below=0.9)
    assert len(_rows(out)) == 1
    other = tmp_path / "notes.csv"
    other.write_text("title,artist\nx,y\n", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"notes\.csv: exists but is not a results file"):
        predict_to_csv(model, files, other)
    assert other.read_text(encoding="utf-8") == "title,artist\nx,y\n"


def test_predict_from_the_command_line_takes_folders_and_lists(trained, tmp_path, capsys):
    model, files = _batch(trained, tmp_path)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# the held-out queries\n{files[0]}\n\n{files[1]}\n", encoding="utf-8")
    out = tmp_path / "r.csv"
    args = ["predict", str(model), str(tmp_path / "in"), "--files-from", str(listing), "--out", str(out)]
    code = main([*args, "--workers", "0"])  # one process per core
    assert code == 1  # bad.wav failed; the others are in the file
    assert "4 files predicted (0 unknown, 1 errors), 0 already there" in capsys.readouterr().out
    assert sorted(r["path"] for r in _rows(out)) == sorted(files)
    assert main(["predict", str(model), "--files-from", str(listing), "--out", str(out), "--quiet"]) == 0
    assert "0 files predicted (0 unknown, 0 errors), 2 already there" in capsys.readouterr().out
    assert main(["predict", str(model)]) == 2
    assert "no input files" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", str(model), files[0], "--workers", "-1"])
    assert "must be 0 (one per core) or more, got -1" in capsys.readouterr().err


def test_a_run_folder_stands_for_the_model_it_saved(trained, tmp_path, capsys):
    model, query = trained
    assert main(["predict", str(model), str(query), "--json"]) == 0
    by_file = json.loads(capsys.readouterr().out)
    assert main(["predict", str(model.parent), str(query), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["top"] == by_file[0]["top"]
    assert main(["predict", str(tmp_path), str(query)]) == 2
    assert f"{tmp_path}: a folder without a model.pt, not a model file" in capsys.readouterr().err


def test_a_batch_on_worker_processes_gives_what_one_process_gives(trained, tmp_path, monkeypatch):
    model, files = _batch(trained, tmp_path)
    monkeypatch.chdir(tmp_path)  # relative names, as a user types them, reach the workers too
    files = [os.path.relpath(f) for f in files] + ["in/silent.wav"]
    sf.write("in/silent.wav", np.zeros(22050 * 2, dtype=np.float32), 22050)

    def shown(results):  # type: ignore[no-untyped-def]
        return [(r.path, r.verdict, [(label, round(p, 4)) for label, p in r.top], r.error) for r in results]

    alone = predict_files(model, files, top_k=2)
    shared = predict_files(model, files, top_k=2, workers=2)
    assert shown(shared) == shown(alone)  # in order, each error naming the file as it was given
    assert [r.error is not None for r in alone] == [False, False, True, False, True]
    assert "in/bad.wav" in alone[2].error and str(tmp_path) not in shared[2].error

    predict_to_csv(model, files, "alone.csv", top_k=2)
    done = predict_to_csv(model, files, "shared.csv", top_k=2, workers=2)
    assert (done.predicted, done.errors) == (5, 2)
    keep = ("path", "verdict", "probability", "top", "error")
    rows = {
        name: sorted(tuple(r[c] for c in keep) for r in _rows(tmp_path / name))
        for name in ("alone.csv", "shared.csv")
    }
    assert rows["shared.csv"] == rows["alone.csv"]

    one, two = embed_to_npz(model, files, "one.npz"), embed_to_npz(model, files, "two.npz", workers=2)
    assert one.errors == two.errors and [path for path, _ in two.errors] == ["in/bad.wav", "in/silent.wav"]
    first, second = np.load("one.npz"), np.load("two.npz")
    assert list(first["paths"]) == list(second["paths"]) == [files[i] for i in (0, 1, 3)]
    np.testing.assert_allclose(first["embeddings"], second["embeddings"], rtol=1e-5, atol=1e-6)


def test_a_search_on_worker_processes_ranks_as_one_process_does(trained, tmp_path):
    model, query = trained
    tracks = [path for path, _ in _training_tracks(model)][:6]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio" * 50)
    files = [*tracks, str(bad)]
    maker = _training_tracks(model)[0][1]

    def rounded(found):  # type: ignore[no-untyped-def]
        ranked, errors = found
        return [(path, round(score, 5)) for path, score in ranked], errors

    for search in (
        lambda **kw: find_similar(model, query, files, top_n=4, **kw),
        lambda **kw: find_like_maker(model, maker, files, top_n=4, **kw),
        lambda **kw: find_like_maker(model, maker, files, top_n=4, rank_by="probability", **kw),
    ):
        alone, shared = rounded(search()), rounded(search(workers=2))
        assert shared == alone and len(alone[0]) == 4
        assert [path for path, _ in alone[1]] == [str(bad)]


def test_verdicts_stream_in_order_as_soon_as_they_are_known(trained, tmp_path, monkeypatch):
    model, files = _batch(trained, tmp_path)
    asked = []
    predict = Predictor.predict

    def recording(self, path, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(str(path))
        return predict(self, path, **kwargs)

    monkeypatch.setattr(Predictor, "predict", recording)
    verdicts = iter_predictions(model, files)
    first = next(verdicts)
    assert first.path == files[0] and asked == [files[0]]  # the rest not yet read
    assert [first.path] + [v.path for v in verdicts] == files


def test_info_says_what_a_model_knows_and_how_well_its_run_did(trained, tmp_path, capsys):
    model, _ = trained
    metrics = json.loads((model.parent / "metrics.json").read_text(encoding="utf-8"))
    assert main(["info", str(model)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == f"{model}: feature model 'logreg'"
    assert shown[1] == "makers (2): Producer A, Producer B"
    params = create_model("logreg").params  # the run trained it with its defaults, saved with the model
    assert shown[3] == "arguments: " + ", ".join(f"{k}={v}" for k, v in params.items())
    assert shown[4].endswith(f"data hash {metrics['data_hash']}")
    assert shown[5].startswith(f"evaluated: accuracy {metrics['accuracy']:.3f}, macro F1 ")
    copy = tmp_path / "elsewhere" / "model.pt"  # away from its run's metrics: nothing to claim
    copy.parent.mkdir()
    shutil.copy(model, copy)
    assert describe_model(copy)["evaluated"] is None
    (copy.parent / "metrics.json").write_text(
        json.dumps({**metrics, "data_hash": "another run"}), encoding="utf-8"
    )
    assert describe_model(copy)["evaluated"] is None
