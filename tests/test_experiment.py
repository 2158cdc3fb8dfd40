"""End to end on small generated collections: experiment, report, grouping, predict."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from sonicprint.audio import DECODERS
from sonicprint.cli import main
from sonicprint.collection import read_manifest
from sonicprint.config import CollectionConfig, ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from sonicprint.deep.transforms import ROBUSTNESS_CONDITIONS
from sonicprint.demo import generate_collection
from sonicprint.errors import ConfigError
from sonicprint.experiment import evaluation_splits, run_experiment, scored_tracks_of_any_seed
from sonicprint.pipeline import FeatureTable
from sonicprint.predict import UNKNOWN, Predictor, predict_files
from sonicprint.registry import UnknownNameError
from tests.conftest import relabelled, rewritten, with_albums


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    return generate_collection(
        out, seed=3, producers=3, artists=2, tracks_per_pair=4, duration_s=8.0, queries=3
    )


def _config(**split):
    return ExperimentConfig(
        collection=CollectionConfig(label="producer", group_columns=("album", "artist"), min_duration_s=2.0),
        features=FeatureConfig(n_windows=2, window_s=3.0),
        split=SplitConfig(folds=3, **split),
        model=ModelConfig("lda"),
        executor="serial",
        maps=("tsne",),
    )


def _source(collection, config):
    return read_manifest(
        collection.manifest,
        label="producer",
        group_columns=config.collection.group_columns,
        audio_root=collection.audio_root,
    )


def _run(collection, config, tmp_path, out="run"):  # type: ignore[no-untyped-def]
    return run_experiment(
        _source(collection, config), config, workspace=tmp_path / "ws", out_dir=tmp_path / out, progress=False
    )


def test_generated_collection_is_deterministic(tmp_path):
    a = generate_collection(
        tmp_path / "a", seed=1, producers=2, artists=2, tracks_per_pair=3, duration_s=2.0, queries=1
    )
    b = generate_collection(
        tmp_path / "b", seed=1, producers=2, artists=2, tracks_per_pair=3, duration_s=2.0, queries=1
    )
    assert a.manifest.read_text(encoding="utf-8") == b.manifest.read_text(encoding="utf-8")
    suffixes = {
        line.split(",")[0].rsplit(".", 1)[1]
        for line in a.manifest.read_text(encoding="utf-8").splitlines()[1:]
    }
    assert suffixes == {"flac", "wav", "mp3"}  # every format is written, and byte for byte the same
    for row in a.manifest.read_text(encoding="utf-8").splitlines()[1:]:
        rel = row.split(",")[0]
        assert (a.audio_root / rel).read_bytes() == (b.audio_root / rel).read_bytes()


def test_experiment_writes_a_complete_report(collection, tmp_path):
    config = _config()
    result = _run(collection, config, tmp_path, "run")
    m = result.metrics
    assert m["n_tracks"] == 24 and m["n_skipped"] == 2  # the damaged file and the duplicate
    assert m["accuracy"] > m["chance"]["uniform"] + 0.2
    assert m["grouping"] == "track" and "track-disjoint" in m["evaluation"]
    assert "window" not in m  # whole-track features: no window verdicts
    assert len(m["data_hash"]) == 16
    # which decoder read the tracks: every evaluated track counted once, by a registered decoder
    assert sum(m["decoders"].values()) == m["n_tracks"] and set(m["decoders"]) <= set(DECODERS.names())
    assert "Read by " in (result.out_dir / "report.html").read_text(encoding="utf-8")
    for name in (
        "report.html",
        "metrics.json",
        "config.json",
        "predictions.csv",
        "problems.txt",
        "model.pt",
        "confusion.png",
        "map_tsne.png",
    ):
        assert (tmp_path / "run" / name).is_file(), name
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "track-disjoint" in html and m["data_hash"] in html and "map_tsne.png" in html
    problems = (tmp_path / "run" / "problems.txt").read_text(encoding="utf-8")
    assert "damaged.flac" in problems and "duplicate" in problems
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["accuracy"] == m["accuracy"] and saved["config"]["split"]["folds"] == 3
    rows = (tmp_path / "run" / "predictions.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 25 and {r.split(",")[4] for r in rows[1:]} == {"0", "1", "2"}
    # the "unknown" table agrees with the predictions file
    best = np.array([float(r.split(",")[3]) for r in rows[1:]])
    right = np.array([r.split(",")[1] == r.split(",")[2] for r in rows[1:]])
    for row in m["unknown_below"]:
        answered = best >= row["threshold"] - 5e-5  # the file rounds to 4 decimals
        assert row["answered"] == pytest.approx(answered.mean())
        if answered.any():
            assert row["accuracy"] == pytest.approx(right[answered].mean())
    assert 'Answering "unknown"' in html and "never-heard" not in html
    # calibration, from the same probabilities as the predictions file
    calibration = m["calibration"]
    assert sum(r["n"] for r in calibration["reliability"]) == len(best)
    assert calibration["ece"] == pytest.approx(
        sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in calibration["reliability"]) / len(best)
    )
    assert f"expected calibration error {calibration['ece']:.3f}" in html


def test_group_flag_holds_whole_albums_out(collection, tmp_path):
    config = _config(group="album")
    result = _run(collection, config, tmp_path, "run")
    assert result.metrics["grouping"] == "album"
    rows = [
        r.split(",")
        for r in (tmp_path / "run" / "predictions.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    source = _source(collection, config)
    album_of = {t.path: t.groups["album"] for t in source.tracks}
    folds_of_album: dict[str, set[str]] = {}
    for r in rows:
        folds_of_album.setdefault(album_of[r[0]], set()).add(r[4])
    assert all(len(f) == 1 for f in folds_of_album.values())  # each album tested in exactly one fold


def test_a_label_with_a_single_album_is_not_scored_album_disjointly(collection, tmp_path):
    config = replace(_config(group="album"), maps=())
    producers = sorted({t.label for t in _source(collection, config).tracks})
    one_album = with_albums(collection, tmp_path, {producers[0]: "the only album"})
    m = _run(one_album, config, tmp_path).metrics
    rows = [
        r.split(",")
        for r in (tmp_path / "run" / "predictions.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    assert m["not_scored"] == {producers[0]: 8} and m["n_scored"] == m["n_tracks"] - 8 == len(rows) - 8
    assert "8 tracks of 1 label not scored: every track of their label shares one album" in m["evaluation"]
    scored = [r for r in rows if r[1] != producers[0]]
    assert m["accuracy"] == pytest.approx(np.mean([r[1] == r[2] for r in scored]))
    assert sum(r["support"] for r in m["per_label"]) == m["n_scored"]
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "not scored: " + producers[0] in html
    unheard = [float(r[3]) for r in rows if r[1] == producers[0]]  # best probability of each
    assert len(m["not_scored_unknown"]) == len(m["unknown_below"])
    for share, row in zip(m["not_scored_unknown"], m["unknown_below"]):
        assert share == pytest.approx(np.mean(np.array(unheard) < row["threshold"] - 5e-5))
    assert "never-heard makers' tracks answered unknown" in html


def test_album_disjoint_splits_no_label_can_cross_are_refused(collection, tmp_path):
    config = _config(group="album")
    producers = sorted({t.label for t in _source(collection, config).tracks})
    solo = with_albums(collection, tmp_path, {p: f"{p} solo" for p in producers})
    with pytest.raises(ConfigError, match="album-disjoint splits leave no evaluated track with its label"):
        _run(solo, config, tmp_path)
    assert not (tmp_path / "run" / "model.pt").exists()


def test_experiment_is_deterministic(collection, tmp_path):
    config = replace(_config(), maps=())
    a = _run(collection, config, tmp_path, "a")
    b = _run(collection, config, tmp_path, "b")
    assert a.metrics["accuracy"] == b.metrics["accuracy"]
    assert (tmp_path / "a" / "predictions.csv").read_text(encoding="utf-8") == (
        tmp_path / "b" / "predictions.csv"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize("method", ["kfold", "holdout"])
def test_repeats_evaluate_again_with_the_next_split_seeds(collection, tmp_path, method):
    config = replace(_config(method=method, seed=2, repeats=3), maps=(), per_window=True)
    result = _run(collection, config, tmp_path, "repeated")
    r = result.metrics["repeats"]
    assert r["seeds"] == [2, 3, 4]
    # the headline tables are the first seed's; each repeat equals a run of its own with that seed
    assert r["accuracy"][0] == result.metrics["accuracy"]
    assert r["window_accuracy"][0] == result.metrics["window"]["accuracy"]
    single = _run(collection, replace(config, split=replace(config.split, seed=4, repeats=1)), tmp_path, "s4")
    assert r["accuracy"][2] == single.metrics["accuracy"]
    assert r["macro_f1"][2] == single.metrics["macro"]["f1"]
    assert "repeats" not in single.metrics
    assert r["accuracy_mean"] == pytest.approx(np.mean(r["accuracy"]))
    assert r["accuracy_std"] == pytest.approx(np.std(r["accuracy"]))
    assert "repeated over 3 split seeds (2-4" in result.metrics["evaluation"]
    assert "Over 3 split seeds" in result.report_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("method", ["kfold", "holdout"])
def test_calibration_scales_held_out_probabilities_and_the_saved_model_keeps_it(collection, tmp_path, method):
    from sonicprint.models import apply_temperature

    plain_config = replace(_config(method=method), maps=())
    calibrated_config = replace(plain_config, model=replace(plain_config.model, calibration="temperature"))
    plain = _run(collection, plain_config, tmp_path, "plain")
    calibrated = _run(collection, calibrated_config, tmp_path, "calibrated")
    temperature = calibrated.metrics["calibration"]["temperature"]
    assert temperature > 0 and "temperature-scaled" in calibrated.metrics["evaluation"]
    assert "temperature" not in plain.metrics["calibration"]
    assert f"temperature {temperature:.2f}" in calibrated.report_path.read_text(encoding="utf-8")
    assert calibrated.metrics["accuracy"] == plain.metrics["accuracy"]  # the winner never changes

    def rows(run):  # type: ignore[no-untyped-def]
        lines = (tmp_path / run / "predictions.csv").read_text(encoding="utf-8").splitlines()
        return [line.split(",") for line in lines[1:]]

    before, after = rows("plain"), rows("calibrated")
    assert [r[2] for r in before] == [r[2] for r in after]  # same verdicts
    query = collection.queries[0][0]
    raw = Predictor(plain.model_path).predict(query, top_k=5)
    scaled = Predictor(calibrated.model_path).predict(query, top_k=5)
    assert f"temperature-scaled ({temperature:.2f})" in str(Predictor(calibrated.model_path).describe())
    assert "temperature" not in str(Predictor(plain.model_path).describe())
    labels = [label for label, _ in raw.top]
    expected = apply_temperature(np.array([[p for _, p in raw.top]]), temperature)[0]
    np.testing.assert_allclose([dict(scaled.top)[label] for label in labels], expected, atol=1e-6)


def test_predict_top_k_unknown_and_bad_files(collection, tmp_path, bad_files):
    config = replace(_config(), maps=())
    result = _run(collection, config, tmp_path, "run")
    queries = [q[0] for q in collection.queries]
    out = predict_files(result.model_path, [*queries, bad_files["not_audio"]], top_k=2)
    assert [len(p.top) for p in out[:-1]] == [2, 2, 2]
    assert all(abs(sum(p for _, p in r.top) - 1) < 1 or r.top[0][1] >= r.top[1][1] for r in out[:-1])
    correct = sum(p.verdict == q[1] for p, q in zip(out, collection.queries))
    assert correct >= 2
    assert out[-1].error and "not readable as audio" in out[-1].error
    cautious = predict_files(result.model_path, queries, unknown_below=1.01)
    assert {p.verdict for p in cautious} == {UNKNOWN}


def test_too_few_labels_is_a_clear_error(collection, tmp_path):
    config = replace(_config(), collection=replace(_config().collection, min_tracks_per_label=1000))
    with pytest.raises(ValueError, match="need at least 2 labels"):
        _run(collection, config, tmp_path, "run")


def test_holdout_split_reports_on_the_test_part(collection, tmp_path):
    config = replace(_config(), split=SplitConfig(method="holdout", seed=1), maps=())
    result = _run(collection, config, tmp_path, "run")
    m = result.metrics
    assert "holdout 60%/20%/20%" in m["evaluation"]
    assert [f["part"] for f in m["folds"]] == ["val", "test"]
    rows = [
        r.split(",")
        for r in (tmp_path / "run" / "predictions.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    test_rows = [r for r in rows if r[4] == "test"]
    assert m["n"] == len(test_rows) and 3 <= len(test_rows) <= 8  # about 20% of 24 tracks
    assert {r[4] for r in rows} == {"val", "test"}
    assert len(rows) < 24  # training tracks are never predicted


def test_feature_sets_are_concatenated_and_predict_recomputes_them(collection, tmp_path):
    base = _config()
    config = replace(
        base, extra_features=(FeatureConfig(extractor="mfcc_stats", n_windows=1, window_s=3.0),), maps=()
    )
    result = _run(collection, config, tmp_path, "run")
    assert result.metrics["extractor"] == "track_stats + mfcc_stats"
    from sonicprint.models import load_model

    loaded = load_model(result.model_path)
    assert [c.extractor for c in loaded.feature_configs] == ["track_stats", "mfcc_stats"]
    assert loaded.model.state()["mean"].shape == (128 + 40,)
    out = predict_files(result.model_path, [collection.queries[0][0]])
    assert out[0].error is None and len(out[0].top) == 3


def test_per_window_training_decides_per_track_and_predict_follows(collection, tmp_path):
    config = replace(_config(), per_window=True, maps=("tsne",))
    result = _run(collection, config, tmp_path, "run")
    m = result.metrics
    assert "trained on each of 2 windows, decided per track" in m["evaluation"]
    assert m["n"] == 24 and m["accuracy"] > 0.5  # 3 producers: chance is 1/3
    assert m["window"]["n"] == 48 and 0.4 < m["window"]["accuracy"] <= 1  # each window judged alone
    assert "Each window judged alone" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    from sonicprint.models import load_model

    loaded = load_model(result.model_path)
    assert loaded.per_window and loaded.model.state()["mean"].shape == (128,)
    out = predict_files(result.model_path, [q[0] for q in collection.queries])
    assert all(p.error is None and abs(sum(x for _, x in p.top) - 1) < 1e-6 for p in out)
    assert sum(p.verdict == q[1] for p, q in zip(out, collection.queries)) >= 2


def test_window_metrics_count_a_short_tracks_repeated_window_once(collection, tmp_path):
    # 8 s tracks, 10 s windows: each track is one window, repeated to fill its 3 rows
    config = replace(_config(), per_window=True, features=FeatureConfig(n_windows=3, window_s=10.0), maps=())
    m = _run(collection, config, tmp_path, "run").metrics
    assert m["n"] == 24 and m["window"]["n"] == 24
    assert m["window"]["accuracy"] == m["accuracy"]  # one window per track: the same verdicts


def test_late_fusion_trains_one_model_per_feature_set_and_predict_follows(collection, tmp_path):
    """Per window with the stereo mix fingerprint: each set's model sees only its own columns."""
    features = FeatureConfig(n_windows=2, window_s=3.0)
    config = replace(
        _config(),
        extra_features=(replace(features, extractor="mix_stats"),),
        model=ModelConfig("lda", fusion="late"),
        per_window=True,
        maps=(),
    )
    result = _run(collection, config, tmp_path, "run")
    assert result.metrics["fusion"] == "late" and result.metrics["extractor"] == "track_stats + mix_stats"
    from sonicprint.models import load_model

    loaded = load_model(result.model_path)
    assert loaded.meta["model_name"] == "late_fusion"
    assert loaded.model.params["block_sizes"] == [128, 169] and loaded.model.params["model"] == "lda"
    state = loaded.model.state()
    assert state["0/mean"].shape == (128,) and state["1/mean"].shape == (169,)
    out = predict_files(result.model_path, [q[0] for q in collection.queries])
    assert all(p.error is None and abs(sum(x for _, x in p.top) - 1) < 1e-6 for p in out)
    saved = json.loads((result.out_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["model"]["fusion"] == "late"
    profile = result.metrics["mix_profile"]
    assert set(profile["makers"]) == set(result.metrics["labels"])
    assert all(len(v) == len(profile["columns"]) for v in profile["makers"].values())
    assert "Mix fingerprint per maker" in result.report_path.read_text(encoding="utf-8")


def test_a_learning_curve_scores_the_same_tracks_with_fewer_training_tracks(collection, tmp_path):
    config = replace(_config(), learning_curve=(0.5,), maps=(), split=SplitConfig(folds=3, repeats=2))
    result = _run(collection, config, tmp_path)
    curve = result.metrics["learning_curve"]
    assert curve["shares"] == [0.5, 1.0] and curve["seeds"] == [0, 1]
    assert curve["accuracy"][1] == result.metrics["repeats"]["accuracy"]  # the whole share is the run itself
    assert all(0.0 <= a <= 1.0 for a in curve["accuracy"][0]) and len(curve["accuracy"][0]) == 2
    fewer, whole = curve["median_training_tracks_per_label"]
    assert 2 <= fewer < whole
    assert "Learning curve" in result.report_path.read_text(encoding="utf-8")
    saved = json.loads((result.out_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["learning_curve"] == [0.5]


def test_an_interrupted_run_resumes_from_its_finished_parts(collection, tmp_path, fits):
    config = replace(_config(), learning_curve=(0.5,), maps=(), split=SplitConfig(folds=3, repeats=2))
    done = _run(collection, config, tmp_path, out="uninterrupted")
    fits.clear()
    fits.stop_at = 10  # 2 seeds x 3 parts, then the curve's 2 x 3: stops in the curve's second seed
    with pytest.raises(KeyboardInterrupt):
        _run(collection, config, tmp_path)
    assert not (tmp_path / "run" / "metrics.json").exists()
    fits.clear()
    fits.stop_at = 0
    resumed = _run(collection, config, tmp_path)
    assert len(fits) == 12 - 9 + 1  # the three parts left, then the saved model on every track
    for result in (done, resumed):
        result.metrics.pop("seconds")
    assert resumed.metrics == done.metrics
    predictions = [(r.out_dir / "predictions.csv").read_text(encoding="utf-8") for r in (done, resumed)]
    assert predictions[0] == predictions[1]


def test_choosing_among_models_from_the_command_line_is_measured_and_reported(collection, tmp_path, capsys):
    from sonicprint.models import load_model

    models = tmp_path / "models.toml"
    models.write_text('inner_folds = 2\n[[candidates]]\nname = "lda"\n', encoding="utf-8")
    args = ["experiment", str(collection.manifest), "--label", "producer", "--group-columns", "album,artist"]
    args += ["--min-duration", "2", "--windows", "2", "--window-length", "3", "--select-among", str(models)]
    args += ["--model", "knn_pca", "--model-param", "k=1000"]  # votes the commonest maker: knows nothing
    args += ["--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run")]
    assert main([*args, "--executor", "serial", "--no-maps", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "choosing among 2 models by inner 2-fold CV, part by part: accuracy" in printed
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    selection = metrics["selection"]
    assert selection["models"] == ["knn_pca (k=1000)", "lda"] and selection["best_afterwards"] == 1
    assert sum(selection["times_picked"]) == len(metrics["folds"])
    # the run's tables and its saved model are of the model chosen, not of --model
    assert metrics["model"] == "lda" and load_model(tmp_path / "run" / "model.pt").model.name == "lda"
    assert selection["model_accuracy"][1] == [pytest.approx(metrics["accuracy"])]
    assert "The figures below and the saved model are of that model" in printed
    assert "Choosing a model, measured" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    # every part trained is kept: two models x 3 outer parts and 3 x 2 inner ones; the run's own
    # cross-validation of the chosen model is one of them
    assert len(list((tmp_path / "run" / "finished_parts").glob("*.npz"))) == 2 * (3 + 3 * 2)
    assert "resumed:" not in printed
    assert main([*args, "--executor", "serial", "--no-maps", "--quiet"]) == 0  # the same again: all kept
    again = capsys.readouterr().out
    assert f"resumed: 18 folds read from {tmp_path / 'run' / 'finished_parts'} (" in again
    assert ", 0 trained now" in again
    assert (
        json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))["accuracy"]
        == metrics["accuracy"]
    )
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert saved["model"]["name"] == "knn_pca" and saved["selection"]["candidates"][0]["name"] == "lda"
    assert metrics["config"] == saved  # the config as given: running it again chooses again
    assert f"scores {selection['accuracy_mean']:.1%} as chosen part by part" in metrics["evaluation"]
    assert main(["info", str(tmp_path / "run" / "model.pt")]) == 0
    assert "the model chosen among 2 by an inner 2-fold cross-validation" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "run" / "model.pt"), "--json"]) == 0
    chosen = json.loads(capsys.readouterr().out)["evaluated"]["chosen"]
    assert chosen["among"] == ["knn_pca (k=1000)", "lda"] and chosen["inner_folds"] == 2
    assert chosen["accuracy_mean"] == pytest.approx(selection["accuracy_mean"])


def test_an_unknown_model_to_choose_among_is_refused_before_any_work(tmp_path, capsys):
    models = tmp_path / "models.json"
    models.write_text('{"candidates": [{"name": "svm"}]}', encoding="utf-8")
    assert main(["experiment", str(tmp_path / "absent.csv"), "--select-among", str(models)]) == 2
    assert re.search(r"unknown model 'svm'.*knn_pca, .*lda", capsys.readouterr().err)
    models.write_text('{"candidates": [{"name": "lda", "parms": {}}]}', encoding="utf-8")
    assert main(["experiment", str(tmp_path / "absent.csv"), "--select-among", str(models)]) == 2
    assert f"{models}: config.candidates[0]: unknown key(s) parms" in capsys.readouterr().err


def test_cross_validation_on_a_share_trains_on_fewer_tracks_and_predicts_every_one(collection, tmp_path):
    from sonicprint.experiment import cross_validate_windows
    from sonicprint.pipeline import Workspace, extract_feature_sets, select_labels

    config = replace(_config(), maps=())
    _run(collection, config, tmp_path)  # checks the files into the workspace and caches their features
    with Workspace(tmp_path / "ws") as ws:
        table = select_labels(extract_feature_sets(ws, config.feature_sets, progress=False), min_tracks=1)
    full = cross_validate_windows(table, config)
    half = cross_validate_windows(table, config, train_share=0.5)
    assert [p["n_test"] for p in half.per_part] == [p["n_test"] for p in full.per_part]
    assert all(h["n_train"] < f["n_train"] for h, f in zip(half.per_part, full.per_part))
    assert not np.isnan(half.probabilities).any()  # every track is still judged, by a model without it
    again = cross_validate_windows(table, config, train_share=0.5)
    np.testing.assert_array_equal(again.probabilities, half.probabilities)  # deterministic for the seed


def test_a_run_on_musicnn_tags_describes_each_maker_by_the_tags_it_gets_more(collection, tmp_path, capsys):
    from sonicprint.pretrained.musicnn import tag_names

    features = FeatureConfig(n_windows=2, window_s=3.0, extractor="musicnn_msd_tags")
    config = replace(_config(), features=features, extra_features=(replace(features, extractor="mix_stats"),))
    result = _run(collection, replace(config, maps=()), tmp_path)
    (profile,) = result.metrics["tag_profile"]
    assert profile["network"] == "MSD_musicnn" and set(profile["makers"]) == set(result.metrics["labels"])
    listed = [entry for tags in profile["makers"].values() for entry in tags]
    assert listed and all(tag in tag_names("MSD_musicnn") and mine > overall for tag, mine, overall in listed)
    report = result.report_path.read_text(encoding="utf-8")
    assert "Tags per maker (MSD_musicnn)" in report and "Mix fingerprint per maker" in report
    from sonicprint.cli import main

    assert main(["info", str(result.model_path)]) == 0
    maker, tags = next((m, t) for m, t in profile["makers"].items() if t)
    info = capsys.readouterr().out
    assert "tags each maker's tracks get more than the collection's (MSD_musicnn):" in info
    assert f"  {maker}: {', '.join(tag for tag, _, _ in tags)}\n" in info


def test_a_feature_set_on_a_separated_stem_trains_and_predict_separates_too(collection, tmp_path):
    features = FeatureConfig(n_windows=2, window_s=3.0)
    config = replace(
        _config(),
        features=replace(features, separate="hpss:percussive"),
        extra_features=(features,),
        model=ModelConfig("lda", fusion="late"),
        maps=(),
    )
    result = _run(collection, config, tmp_path, "run")
    assert result.metrics["extractor"] == "track_stats@hpss:percussive + track_stats"
    assert (
        json.loads((result.out_dir / "config.json").read_text(encoding="utf-8"))["features"]["separate"]
        == "hpss:percussive"
    )
    from sonicprint.models import load_model
    from sonicprint.pipeline import compute_feature_sets

    loaded = load_model(result.model_path)
    assert [c.separate for c in loaded.feature_configs] == ["hpss:percussive", ""]
    query = collection.queries[0][0]
    both = compute_feature_sets(query, loaded.feature_configs)
    percussive, full = both[:128], both[128:]
    assert not np.allclose(percussive, full)  # the stem's statistics are not the mix's
    out = predict_files(result.model_path, [query])
    np.testing.assert_allclose(
        [p for _, p in out[0].top],
        np.sort(loaded.model.predict_proba(both[np.newaxis])[0])[::-1][:3],
        atol=1e-4,
    )


def test_unknown_fusion_is_refused():
    with pytest.raises(ConfigError, match="fusion must be 'early' or 'late'"):
        ModelConfig("lda", fusion="middle")


def test_degraded_copies_train_only_on_their_own_training_tracks():
    from sonicprint.experiment import training_rows
    from sonicprint.pipeline import FeatureTable

    def table(hashes, offset):
        n = len(hashes)
        features = np.arange(n, dtype=float)[:, None] + offset
        return FeatureTable([""] * n, ["x"] * n, [{}] * n, list(hashes), features)

    clean = table(["a", "b", "c", "d"], 0.0)
    copy = table(["d", "b", "a"], 100.0)  # another order, and "c" failed in this copy
    y = np.array([0, 1, 0, 1])
    x, labels = training_rows(clean, [copy], np.array([0, 2]), y)
    # the clean training tracks a and c, then the copy of a only: nothing of b or d
    np.testing.assert_array_equal(x[:, 0], [0.0, 2.0, 102.0])
    np.testing.assert_array_equal(labels, [0, 0, 0])


def test_augment_copies_join_training_and_the_report_says_so(collection, tmp_path):
    config = replace(_config(), augment_copies=1, maps=())
    result = _run(collection, config, tmp_path, "run")
    assert "trained with 1 randomly degraded copies" in result.metrics["evaluation"]
    plain = _run(collection, replace(config, augment_copies=0), tmp_path, "plain")
    assert result.metrics["n"] == plain.metrics["n"]  # the same tracks are evaluated, as they are
    from sonicprint.models import load_model

    with_copies, without = load_model(result.model_path), load_model(plain.model_path)
    assert not np.allclose(with_copies.model.state()["mean"], without.model.state()["mean"])
    with pytest.raises(ConfigError, match="augment_copies must be 0 or more"):
        replace(config, augment_copies=-1)


def test_a_failed_degraded_copy_is_reported_and_training_goes_on(collection, tmp_path, monkeypatch):
    from sonicprint.deep import transforms

    def broken(rng):
        return "broken", lambda audio, rate, r: audio * np.float32("nan")

    monkeypatch.setattr(transforms, "random_degradation", broken)
    config = replace(_config(), augment_copies=1, maps=(), executor="serial")
    result = _run(collection, config, tmp_path, "run")
    problems = (result.out_dir / "problems.txt").read_text(encoding="utf-8")
    assert problems.count("degraded copy 1 left out of training") >= 24  # every copy broke; all named
    assert result.metrics["n"] == 24 and result.model_path.is_file()


def test_a_background_label_is_learnt_and_answered_unknown(collection, tmp_path):
    others = relabelled(collection, tmp_path, {"Producer C": "other"})
    args = ["experiment", str(others.manifest), "--label", "producer", "--audio-root", str(others.audio_root)]
    args += ["--background", "other", "--group-columns", "album,artist", "--model", "lda", "--folds", "3"]
    args += ["--min-duration", "2", "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run")]
    assert main([*args, "--executor", "serial", "--no-maps", "--quiet"]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    summary = metrics["background"]
    rows = [
        r.split(",")
        for r in (tmp_path / "run" / "predictions.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    background = [r for r in rows if r[1] == "other"]
    makers = [r for r in rows if r[1] != "other"]
    assert summary["background_tracks"] == len(background) == 8 and summary["known_tracks"] == len(makers)
    assert summary["background_turned_away"] == pytest.approx(np.mean([r[2] == "other" for r in background]))
    assert summary["known_answered"] == pytest.approx(np.mean([r[2] != "other" for r in makers]))
    assert summary["background_turned_away"] > 0.5  # a producer's sound is learnable as "not ours"
    assert "Background class <b>other</b>" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    predictor = Predictor(tmp_path / "run" / "model.pt")
    assert predictor.describe()["background"] == "other"
    for result in [predictor.predict(q[0]) for q in collection.queries]:
        assert (result.verdict == "unknown") == (result.top[0][0] == "other")


def test_a_background_label_without_tracks_is_refused(collection, tmp_path):
    config = _config()
    config = replace(config, collection=replace(config.collection, background="Nobody"))
    with pytest.raises(ConfigError, match=r"background label 'Nobody' has no usable track; labels found: "):
        _run(collection, config, tmp_path)


def test_two_runs_are_compared_on_the_tracks_both_judged(collection, tmp_path, capsys):
    from sonicprint.compare import compare_runs
    from sonicprint.errors import FileProblem

    lda = _run(collection, replace(_config(), maps=()), tmp_path, "lda")
    knn = _run(collection, replace(_config(), maps=(), model=ModelConfig("knn_pca")), tmp_path, "knn")
    result = compare_runs(lda.out_dir, knn.out_dir)
    assert result["n"] == lda.metrics["n_tracks"] and result["only_in_a"] == result["only_in_b"] == 0
    assert result["accuracy_a"] == pytest.approx(lda.metrics["accuracy"])
    assert result["accuracy_b"] == pytest.approx(knn.metrics["accuracy"])
    assert 0 < result["mcnemar_p"] <= 1
    assert main(["compare", str(lda.out_dir), str(knn.out_dir)]) == 0
    printed = capsys.readouterr().out
    assert f"on the {result['n']} tracks both judged" in printed and "note:" not in printed
    assert result["notes"] == []  # same data, same split
    by_album = _run(
        collection,
        replace(_config(), maps=(), split=replace(_config().split, group="album")),
        tmp_path,
        "album",
    )
    assert main(["compare", str(lda.out_dir), str(by_album.out_dir)]) == 0
    assert (
        "note: the runs held out different things (A track-disjoint, B album-disjoint)"
        in capsys.readouterr().out
    )
    rows = (tmp_path / "knn" / "predictions.csv").read_text(encoding="utf-8").splitlines()
    first = rows[1].split(",")
    first[1] = "Someone Else"
    (tmp_path / "knn" / "predictions.csv").write_text(
        "\n".join([rows[0], ",".join(first), *rows[2:]]) + "\n", encoding="utf-8"
    )
    with pytest.raises(FileProblem, match=r"knn/predictions\.csv: labels .* 'Someone Else' where"):
        compare_runs(lda.out_dir, knn.out_dir)
    with pytest.raises(FileProblem, match=r"nowhere/predictions\.csv: not found"):
        compare_runs(lda.out_dir, tmp_path / "nowhere")
    (tmp_path / "knn" / "predictions.csv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(FileProblem, match=r"knn/predictions\.csv: not a readable CSV"):
        compare_runs(lda.out_dir, knn.out_dir)
    (tmp_path / "knn" / "predictions.csv").write_text("path,label\n", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"knn/predictions\.csv: no predictions"):
        compare_runs(lda.out_dir, knn.out_dir)


def test_robustness_scores_the_held_out_tracks_transformed(collection, tmp_path, capsys):
    # Producer C's tracks split over two labels of 4: both left out by --min-tracks 5, never transformed
    split = rewritten(
        collection,
        tmp_path,
        "producer",
        lambda row: "Z" if (row["producer"], row["artist"]) == ("Producer C", "Artist 1") else None,
    )
    settings = tmp_path / "robust.toml"
    settings.write_text('robustness = ["clean", "low-pass 3 kHz", "noise 20 dB SNR"]\n', encoding="utf-8")
    args = ["experiment", str(split.manifest), "--label", "producer", "--group-columns", "album,artist"]
    args += ["--min-duration", "2", "--windows", "2", "--window-length", "3", "--config", str(settings)]
    args += ["--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run"), "--model", "lda"]
    args += ["--repeats", "2", "--min-tracks", "5", "--audio-root", str(collection.audio_root)]
    assert main([*args, "--executor", "serial", "--no-maps", "--quiet"]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    robustness = metrics["robustness"]
    assert list(robustness) == ["clean", "low-pass 3 kHz", "noise 20 dB SNR"]
    assert robustness["clean"] == {"accuracy": metrics["accuracy"], "n_scored": metrics["n_scored"]}
    assert all(r["n_scored"] == metrics["n_scored"] and 0 <= r["accuracy"] <= 1 for r in robustness.values())
    # the synthetic producers differ in their mix and filters: cutting the highs must cost something
    assert robustness["low-pass 3 kHz"]["accuracy"] < metrics["accuracy"]
    repeats = metrics["repeats"]
    assert repeats["robustness clean"] == repeats["accuracy"]
    assert len(repeats["robustness noise 20 dB SNR"]) == 2
    assert "held-out tracks transformed (seed 0, tracks scored; mean ± std over 2 split seeds)" in printed
    seed0, mean = robustness["low-pass 3 kHz"]["accuracy"], repeats["robustness low-pass 3 kHz_mean"]
    assert f"low-pass 3 kHz: {seed0:.3f} (16; {mean:.3f} ± " in printed
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "Robustness: held-out tracks transformed" in report and "noise 20 dB SNR" in report
    assert len(list((tmp_path / "ws" / "cache").glob("*low-pass_3_kHz/*/*"))) == metrics["n_tracks"] == 16
    assert main([*args, "--executor", "serial", "--no-maps", "--quiet"]) == 0  # all kept: nothing trains
    assert ", 0 trained now" in capsys.readouterr().out


def test_a_holdout_transforms_only_the_tracks_it_scores(collection, tmp_path):
    config = replace(_config(method="holdout", seed=1, repeats=2), robustness=("clean", "low-pass 3 kHz"))
    result = _run(collection, replace(config, maps=()), tmp_path)
    metrics = result.metrics
    assert metrics["robustness"]["low-pass 3 kHz"]["n_scored"] == metrics["n_scored"]
    transformed = len(list((tmp_path / "ws" / "cache").glob("*low-pass_3_kHz/*/*")))
    # the test parts of two seeds, never the training tracks: fewer than the run's tracks
    assert metrics["n_scored"] <= transformed <= 2 * metrics["n_scored"] < metrics["n_tracks"]


def test_the_tracks_scored_by_some_seed_are_every_track_of_k_folds_and_the_test_parts_of_a_holdout():
    n = 30
    table = FeatureTable(
        paths=[f"t{i}.wav" for i in range(n)],
        labels=[f"maker {i % 3}" for i in range(n)],
        groups=[{} for _ in range(n)],
        hashes=[f"h{i}" for i in range(n)],
        features=np.zeros((n, 4)),
    )
    assert scored_tracks_of_any_seed(table, _config()) == set(table.hashes)
    one_seed = _config(method="holdout", seed=4)
    parts = {name: {table.hashes[i] for i in part} for name, _, part in evaluation_splits(table, one_seed)}
    train = set(table.hashes) - parts["val"] - parts["test"]
    scored = scored_tracks_of_any_seed(table, one_seed)
    assert scored == parts["test"] and not scored & (train | parts["val"])
    three_seeds = scored_tracks_of_any_seed(table, _config(method="holdout", seed=4, repeats=3))
    assert scored < three_seeds < set(table.hashes)


def test_the_robustness_flag_asks_for_every_condition():
    from sonicprint.cli import _experiment_config, build_parser

    config = _experiment_config(build_parser().parse_args(["experiment", "m.csv", "--robustness"]))
    assert config.robustness == ROBUSTNESS_CONDITIONS
    assert _experiment_config(build_parser().parse_args(["experiment", "m.csv"])).robustness == ()


def test_an_unknown_robustness_condition_is_refused_before_any_work(collection, tmp_path):
    config = replace(_config(), robustness=("clean", "tempo x2"))
    with pytest.raises(UnknownNameError, match="unknown robustness condition 'tempo x2'; known: clean"):
        _run(collection, config, tmp_path)
    assert not (tmp_path / "ws").exists()
