from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from sonicprint.cli import build_parser, main
from sonicprint.demo import generate_collection
from sonicprint.predict import Predictor


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_option_says_what_it_does(command):
    undocumented = [
        action.dest
        for action in _subcommands()[command]._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert undocumented == []


def test_list_shows_every_registry(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "track_stats",
        "knn_pca",
        "lda",
        "logreg",
        "process",
        "soundfile",
        "repet_sim (vocals, backing)",
    ):
        assert name in out


def test_list_verbose_says_what_each_part_is(capsys):
    assert main(["list", "--verbose"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "feature extractors:" in lines and "separators:" in lines
    vgg = next(line for line in lines if line.strip().startswith("musicnn_mtt_vgg_pool5 "))
    assert "MTT_vgg's flattened last pooling, the tag layer's input (256-d)" in vgg and "(512,)" in vgg
    assert any(line.split()[:2] == ["lda", "Standardize"] for line in lines)


def test_experiment_and_predict_from_the_command_line(tmp_path, capsys):
    made = generate_collection(
        tmp_path / "data", seed=4, producers=2, artists=2, tracks_per_pair=3, duration_s=6.0, queries=2
    )
    args = [
        "experiment",
        str(made.manifest),
        "--label",
        "producer",
        "--audio-root",
        str(made.audio_root),
        "--group-columns",
        "album,artist",
        "--model",
        "logreg",
        "--model-param",
        "C=0.5",
        "--folds",
        "3",
        "--seed",
        "5",
        "--repeats",
        "2",
        "--calibrate",
        "--min-duration",
        "2",
        "--workspace",
        str(tmp_path / "ws"),
        "--out",
        str(tmp_path / "run"),
        "--json",
        str(tmp_path / "m.json"),
        "--executor",
        "serial",
        "--no-maps",
        "--quiet",
    ]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert metrics["model"] == "logreg" and metrics["config"]["model"]["params"] == {"C": 0.5}
    assert metrics["config"]["split"]["repeats"] == 2 and metrics["repeats"]["seeds"] == [5, 6]
    assert (
        metrics["config"]["model"]["calibration"] == "temperature"
        and metrics["calibration"]["temperature"] > 0
    )
    assert "over 2 split seeds: accuracy" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "run" / "model.pt")]) == 0
    repeats = metrics["repeats"]
    assert (
        f"evaluated: accuracy {repeats['accuracy_mean']:.3f} ± {repeats['accuracy_std']:.3f}, macro F1 "
        f"{repeats['macro_f1_mean']:.3f} ± {repeats['macro_f1_std']:.3f} over 2 split seeds "
        f"(seed 5: accuracy {metrics['accuracy']:.3f}, macro F1 {metrics['macro']['f1']:.3f}) on "
    ) in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "run" / "model.pt"), str(made.queries[0][0]), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["verdict"] in ("Producer A", "Producer B") and len(printed[0]["top"]) == 2


def _cnn_config(*flags: str):  # type: ignore[no-untyped-def]
    from sonicprint.cli import _deep_config

    return _deep_config(build_parser().parse_args(["cnn", "labels.csv", *flags]))


def test_cnn_config_comes_from_defaults_then_the_config_file_then_flags(tmp_path):
    from sonicprint.config import AugmentConfig, DeepExperimentConfig, SplitConfig, save_config

    assert _cnn_config() == DeepExperimentConfig(split=SplitConfig(folds=5))
    (tmp_path / "deep.toml").write_text(
        'grid_momentum = [0.5, 0.9]\n[split]\nfolds = 4\n[train]\nnetwork = "crnn"\nepochs = 3\n'
        '[collection]\nlabel = "artist"\ngroup_columns = ["album"]\n',
        encoding="utf-8",
    )
    config = _cnn_config("--config", str(tmp_path / "deep.toml"), "--folds", "2", "--group", "artist")
    assert (config.split.folds, config.train.epochs, config.train.network) == (2, 3, "crnn")
    assert config.collection.label == "artist" and config.collection.group_columns == ("album", "artist")
    assert config.split.group == "artist" and config.grid_momentum == (0.5, 0.9)
    flagged = _cnn_config(
        "--seed", "7", "--augment", "fast", "--grid-weight-decay", "1e-4,1e-3", "--momentum", "0.8"
    )
    assert flagged.split.seed == flagged.train.seed == 7 and flagged.train.momentum == 0.8
    assert flagged.train.augment == AugmentConfig.preset("fast")
    assert (flagged.grid_momentum, flagged.grid_weight_decay) == ((), (1e-4, 1e-3))
    save_config(flagged, tmp_path / "config.json")  # a run's saved config runs it again as it was
    assert _cnn_config("--config", str(tmp_path / "config.json")) == flagged


def test_cnn_flags_for_a_holdout_split_no_maps_and_the_spectrogram_cache():
    config = _cnn_config("--holdout", "--no-maps", "--spectrogram-cache-mb", "0")
    assert config.split.method == "holdout" and config.maps == ()
    assert config.train.spectrogram_cache_mb == 0
    assert _cnn_config().split.method == "kfold" and _cnn_config().maps == ("tsne",)


@pytest.mark.parametrize("command", ["experiment", "cnn"])
def test_training_commands_label_files_from_their_tags_and_write_metrics_json(
    tmp_path, capsys, write_audio, command
):
    from mutagen.flac import FLAC

    rng = np.random.default_rng(0)
    for artist, low, high in (("Alpha", 200, 400), ("Beta", 2000, 4000)):
        for k in range(4):
            t = np.arange(3 * 8000) / 8000
            sound = 0.3 * np.sin(2 * np.pi * rng.uniform(low, high) * t) + 0.01 * rng.standard_normal(len(t))
            path = write_audio(f"music/{artist}-{k}.flac", sound.astype(np.float32)[:, None], 8000)
            tags = FLAC(path)
            tags["ARTIST"] = artist
            tags.save()
    args = [command, str(tmp_path / "music"), "--from-tags", "--label", "artist", "--folds", "2"]
    args += ["--min-duration", "2", "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run")]
    args += ["--json", str(tmp_path / "out" / "metrics.json"), "--no-maps", "--quiet"]
    if command == "cnn":
        args += ["--network", "wavenet", "--network-param", "channels=8", "--network-param", "layers=2"]
        args += ["--epochs", "1", "--clip", "1", "--hop", "1", "--lr", "0.01", "--device", "cpu"]
        (tmp_path / "deep.toml").write_text('robustness = ["clean", "low-pass 3 kHz"]\n', encoding="utf-8")
        args += ["--config", str(tmp_path / "deep.toml")]
    assert main(args) == 0
    if command == "cnn":  # the conditions asked for, under a header
        table = r"transformed:\n +clean: [\d.]+\n +low-pass 3 kHz: [\d.]+\n"
        assert re.search(table, capsys.readouterr().out)
    written = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert written == json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    with (tmp_path / "run" / "predictions.csv").open(encoding="utf-8") as handle:
        assert sorted(row["label"] for row in csv.DictReader(handle)) == ["Alpha"] * 4 + ["Beta"] * 4
    assert not list((tmp_path / "run").glob("map_*.png"))


def test_a_wrong_cnn_config_file_or_missing_label_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "deep.json").write_text('{"train": {"epoch": 3}}', encoding="utf-8")
    (tmp_path / "labels.csv").write_text("path,artist\na.wav,A\n", encoding="utf-8")
    assert main(["cnn", str(tmp_path / "labels.csv"), "--config", str(tmp_path / "deep.json")]) == 2
    assert re.search(r"deep\.json: .*epoch", capsys.readouterr().err)
    assert main(["cnn", str(tmp_path / "labels.csv")]) == 2
    assert "--label is required with a manifest" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["cnn", "labels.csv", "--grid-momentum", "0.9,x"])
    assert "expected comma-separated numbers, got '0.9,x'" in capsys.readouterr().err


def test_cnn_trains_reports_and_its_network_predicts(tmp_path, capsys):
    made = generate_collection(
        tmp_path / "data", seed=4, producers=2, artists=2, tracks_per_pair=3, duration_s=6.0, queries=1
    )
    args = ["cnn", str(made.manifest), "--label", "producer", "--audio-root", str(made.audio_root)]
    args += ["--network", "wavenet", "--network-param", "pooling=mean_std"]
    args += ["--folds", "2", "--epochs", "1", "--clip", "2", "--hop", "2"]
    args += ["--lr", "0.01", "--lr-range-steps", "7", "--batch-size", "4", "--device", "cpu"]
    args += ["--min-duration", "2", "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run")]
    args += ["--quiet"]
    # B: music by none of the makers; memory given back, so this test process keeps no training peak
    assert main([*args, "--background", "Producer B", "--calibrate", "--return-freed-memory"]) == 0
    out = capsys.readouterr().out
    assert "wavenet: clip accuracy" in out and "track-disjoint" in out
    assert "clean:" not in out  # no conditions asked for: no table of them
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["batch_size"] == 4 and config["train"]["network"] == "wavenet"
    assert config["train"]["keep_freed_memory"] is False
    assert config["train"]["lr_range_steps"] == 7 and config["train"]["lr"] == 0.01
    assert main(["info", str(tmp_path / "run"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    saved_metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert info["kind"] == "spectrogram network" and info["name"] == "wavenet"
    assert info["arguments"] == {"pooling": "mean_std"}  # the network's own arguments, as trained
    assert info["trained"]["data_hash"] == saved_metrics["data_hash"] and info["trained"]["created"]
    assert info["evaluated"]["accuracy"] == saved_metrics["track"]["accuracy"]
    assert config["train"]["network_params"] == {"pooling": "mean_std"}
    assert main(["predict", str(tmp_path / "run" / "model.pt"), str(made.queries[0][0]), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)[0]
    assert verdict["verdict"] == ("unknown" if verdict["top"][0]["label"] == "Producer B" else "Producer A")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    assert main(["predict", str(tmp_path / "run" / "model.pt"), str(silent), "--json"]) == 1  # a file failed
    assert json.loads(capsys.readouterr().out)[0]["error"].startswith(
        "silent: "
    )  # the network path checks too
    track_metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))["track"]
    temperature = track_metrics["calibration"]["temperature"]
    assert temperature > 0 and f"temperature-scaled ({temperature:.2f})" in str(
        Predictor(tmp_path / "run" / "model.pt").describe()
    )
    background = track_metrics["background"]
    # a network's predictions.csv (clean-audio verdicts) compares like an experiment's
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "run"), "--json"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["n"] == 12 and same["difference"] == 0 and same["mcnemar_p"] == 1.0
    assert background["background"] == "Producer B" and background["background_tracks"] == 6
    query = str(made.queries[0][0])
    copy = str(tmp_path / "copy_of_query.flac")
    shutil.copy(query, copy)
    assert main(["similar", str(tmp_path / "run" / "model.pt"), query, query, copy, "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in ranked] == [copy]  # the query itself is left out
    assert ranked[0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    # "sounds like this producer": the network keeps each producer's direction in its embedding space
    assert (
        main(["similar", str(tmp_path / "run" / "model.pt"), query, "--maker", "Producer B", "--json"]) == 0
    )
    assert -1 <= json.loads(capsys.readouterr().out)[0]["similarity"] <= 1
    from sonicprint.models import load_model

    centroids = load_model(tmp_path / "run" / "model.pt").maker_centroids  # type: ignore[union-attr]
    assert centroids is not None and centroids.shape[0] == 2 and np.all(np.isfinite(centroids))


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["experiment", str(tmp_path / "none.csv"), "--label", "x", "--quiet"]) == 2
    assert "none.csv: manifest not found" in capsys.readouterr().err
    assert main(["experiment", str(tmp_path / "none.csv"), "--quiet"]) == 2
    assert "--label is required" in capsys.readouterr().err
    bogus = tmp_path / "bogus.pt"
    bogus.write_text("x", encoding="utf-8")
    assert main(["predict", str(bogus), "a.wav"]) == 2
    assert "bogus.pt: not a Sonicprint model file" in capsys.readouterr().err


def test_unknown_model_name_lists_the_known_ones(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("path,label\n", encoding="utf-8")
    assert (
        main(["experiment", str(tmp_path / "m.csv"), "--label", "label", "--model", "nope", "--quiet"]) == 2
    )
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and all(name in err for name in ("knn_pca", "lda", "logreg"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["experiment", "--label", "x", "--model", "lda", "--model-param", "shrinkag=0.1"],
            "takes no parameter",
        ),
        (["cnn", "--label", "x", "--network", "resnet", "--network-param", "widht=3"], "takes no parameter"),
        (["cnn", "--label", "x", "--network", "vgg"], "unknown network 'vgg'"),
    ],
)
def test_a_wrong_model_or_network_is_reported_before_any_file_is_read(tmp_path, capsys, args, message):
    missing = tmp_path / "nowhere.csv"  # never opened: the config is checked first
    assert main([args[0], str(missing), *args[1:], "--workspace", str(tmp_path / "ws"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sonicprint: error:") and message in err and "nowhere" not in err
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--unknown-below", "2", r"must be a probability in \[0, 1\], got 2"),
        ("--unknown-below", "high", "expected a number, got 'high'"),
        ("--top-k", "0", "must be at least 1, got 0"),
        ("--top-k", "1.5", "expected a whole number, got '1.5'"),
    ],
)
def test_predict_options_out_of_range_are_refused(tmp_path, capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path / "model.pt"), "a.flac", option, value])
    assert exit_info.value.code == 2
    assert re.search(f"argument {option}: {message}", capsys.readouterr().err)


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    """The README's first command: the seed method lands clearly above chance and clearly below 100%."""
    result = subprocess.run(
        [sys.executable, "-m", "sonicprint.cli", "demo", "--out", str(tmp_path / "demo"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text(encoding="utf-8"))
    seed, strong = summary["experiments"]["seed_knn_pca"], summary["experiments"]["track_stats_lda"]
    assert seed["chance"] + 0.15 < seed["accuracy"] < 0.9
    assert strong["accuracy"] > seed["accuracy"]
    assert all(
        (tmp_path / "demo" / "runs" / name / "report.html").is_file() for name in summary["experiments"]
    )
    assert sum(p["verdict"] == p["true_producer"] for p in summary["predictions"]) >= 3
    assert any("damaged.flac" in line for line in summary["problems"])
    assert "Held-out tracks" in result.stdout
    assert f"sonicprint serve {summary['best_model']}" in result.stdout
    experiments = summary["experiments"]
    best = max(experiments, key=lambda name: experiments[name]["accuracy"])  # the first of equals
    assert summary["best_model"].endswith(f"{best}/model.pt")
    fingerprint = tmp_path / "demo" / "runs" / "timbre_and_mix_lda" / "report.html"
    assert "Mix fingerprint per maker" in fingerprint.read_text(encoding="utf-8")
    comparison = summary["comparison"]  # the best model against the first study's method, paired
    assert comparison["run_a"].endswith(best) and comparison["run_b"].endswith("seed_knn_pca")
    assert comparison["difference"] == pytest.approx(experiments[best]["accuracy"] - seed["accuracy"])
    assert comparison["mcnemar_p"] < 0.05 and comparison["interval"][0] > 0
    assert f"{best} against seed_knn_pca on the same" in result.stdout


def test_windows_read_from_each_track_are_set_for_every_feature_set_and_for_networks():
    from sonicprint.cli import _experiment_config

    flags = ["--windows", "12", "--window-length", "10"]
    args = build_parser().parse_args(["experiment", "m.csv", "--features", "track_stats,mix_stats", *flags])
    sets = _experiment_config(args).feature_sets
    assert [(c.extractor, c.n_windows, c.window_s) for c in sets] == [
        ("track_stats", 12, 10.0),
        ("mix_stats", 12, 10.0),
    ]
    assert _experiment_config(build_parser().parse_args(["experiment", "m.csv"])).features.n_windows == 6
    network = _cnn_config("--windows", "3", "--window-length", "30", "--clip", "30")
    assert (network.audio.n_windows, network.audio.window_s, network.train.clip_s) == (3, 30.0, 30.0)


def test_comma_separated_features_are_concatenated(tmp_path):
    from sonicprint.cli import _experiment_config, build_parser

    args = build_parser().parse_args(
        ["experiment", "m.csv", "--label", "x", "--features", "track_stats,musicnn_msd_pool"]
    )
    config = _experiment_config(args)
    assert [c.extractor for c in config.feature_sets] == ["track_stats", "musicnn_msd_pool"]
    assert not config.per_window and config.model.fusion == "early"
    per_window = _experiment_config(build_parser().parse_args(["experiment", "m.csv", "--per-window"]))
    assert per_window.per_window
    late = _experiment_config(
        build_parser().parse_args(
            [
                "experiment",
                "m.csv",
                "--features",
                "track_stats,mix_stats",
                "--fusion",
                "late",
                "--model",
                "lda",
            ]
        )
    )
    assert (late.model.name, late.model.fusion) == ("lda", "late")
    assert late.augment_copies == 0
    robust = _experiment_config(build_parser().parse_args(["experiment", "m.csv", "--augment-copies", "3"]))
    assert robust.augment_copies == 3
    stems = _experiment_config(
        build_parser().parse_args(
            ["experiment", "m.csv", "--features", "track_stats@repet_sim:vocals,track_stats"]
        )
    )
    assert [(c.extractor, c.separate) for c in stems.feature_sets] == [
        ("track_stats", "repet_sim:vocals"),
        ("track_stats", ""),
    ]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["experiment", "m.csv", "--fusion", "middle"])


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("workspace_is_a_file", r"ws: is a file, and a folder is needed here"),
        ("damaged_database", r"collection\.sqlite: cannot be used as the workspace database"),
        ("out_is_a_file", r"run: is a file, and a folder is needed here"),
        ("out_under_a_file", r"run/sub: part of this path is a file, not a folder"),
    ],
)
def test_a_workspace_or_output_the_system_refuses_is_named_without_a_traceback(
    tmp_path, capsys, where, message
):
    made = generate_collection(
        tmp_path / "data", seed=1, producers=2, artists=1, tracks_per_pair=2, duration_s=4.0, queries=0
    )
    workspace, out = tmp_path / "ws", tmp_path / "run"
    if where == "workspace_is_a_file":
        workspace.write_text("", encoding="utf-8")
    elif where == "damaged_database":
        workspace.mkdir()
        (workspace / "collection.sqlite").write_bytes(b"\x00garbage" * 500)
    else:
        out.write_text("", encoding="utf-8")
        out = out / "sub" if where == "out_under_a_file" else out
    argv = ["experiment", str(made.manifest), "--label", "producer", "--min-duration", "1", "--no-maps"]
    assert main([*argv, "--workspace", str(workspace), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.startswith("sonicprint: error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        ["experiment", "--features", "track_stats"],
        ["experiment", "--features", "track_stats,mix_stats"],
        ["cnn"],
    ],
)
def test_a_manifest_without_one_usable_file_is_one_clear_error(tmp_path, capsys, command):
    (tmp_path / "m.csv").write_text("path,who\nmissing.wav,A\nalso_missing.wav,B\n", encoding="utf-8")
    run = tmp_path / "run"
    argv = [command[0], str(tmp_path / "m.csv"), "--label", "who", *command[1:]]
    assert main([*argv, "--workspace", str(tmp_path / "ws"), "--out", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "need at least 2 labels with 1+ usable tracks" in err and f"see {run / 'problems.txt'}" in err
    assert "2 of the 2 listed files were not found" in err and "unless an audio root (--audio-root)" in err
    assert "also_missing.wav: error: file not found" in (run / "problems.txt").read_text(encoding="utf-8")


def test_the_missing_files_hint_waits_until_most_files_are_missing(tmp_path, capsys, write_audio, rng):
    write_audio("a.wav", rng.standard_normal(44100).astype("float32") * 0.1, 44100)
    (tmp_path / "m.csv").write_text("path,who\na.wav,A\nmissing.wav,B\n", encoding="utf-8")
    argv = ["experiment", str(tmp_path / "m.csv"), "--label", "who", "--min-duration", "0.5", "--quiet"]
    assert main([*argv, "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "need at least 2 labels" in err and "were not found" not in err  # one of two found: no hint


@pytest.mark.parametrize("command", ["experiment", "cnn"])
def test_path_column_flag_reads_another_column(tmp_path, capsys, command):
    (tmp_path / "m.csv").write_text("file,who\nmissing.wav,A\n", encoding="utf-8")
    args = [command, str(tmp_path / "m.csv"), "--label", "who", "--path-column", "file"]
    args += ["--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "run"), "--quiet"]
    assert main(args) == 2
    # the manifest was read through the named column: the one listed file is reported missing, no labels left
    assert "need at least 2 labels" in capsys.readouterr().err
    assert "missing.wav: error: file not found" in (tmp_path / "run" / "problems.txt").read_text(
        encoding="utf-8"
    )
    assert main(args[:4] + args[6:]) == 2  # without the flag: the 'path' column is missing
    assert "m.csv: no column 'path' of file paths; columns are: file, who" in capsys.readouterr().err


@pytest.mark.slow
def test_makers_named_outside_ascii_survive_a_machine_whose_locale_is_ascii(tmp_path):
    """Every text file Sonicprint writes is UTF-8 whatever the locale says, and what it prints falls back
    to escapes instead of crashing: run, predict and compare on makers named 'Ørjan' and '久石譲' under
    LC_ALL=C."""
    made = generate_collection(
        tmp_path / "data", seed=4, producers=2, artists=2, tracks_per_pair=3, duration_s=6.0, queries=1
    )
    names = {"Producer A": "Ørjan Nilsen", "Producer B": "久石譲"}
    with made.manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["producer"] = names[row["producer"]]
    with made.manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"}
    env.pop("PYTHONIOENCODING", None)

    def sonicprint(*args: str) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [sys.executable, "-m", "sonicprint.cli", *args], capture_output=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
        return done

    for run in ("a", "b"):
        sonicprint(
            "experiment", str(made.manifest), "--label", "producer", "--audio-root", str(made.audio_root),
            "--model", "lda", "--folds", "3", "--min-duration", "2", "--workspace", str(tmp_path / "ws"),
            "--out", str(tmp_path / run), "--executor", "serial", "--no-maps", "--seed", str(len(run)),
        )  # fmt: skip
    for name in ("metrics.json", "predictions.csv", "report.html"):
        text = (tmp_path / "a" / name).read_text(encoding="utf-8")
        readable = json.dumps(json.loads(text), ensure_ascii=False) if name.endswith(".json") else text
        assert "久石譲" in readable
    printed = sonicprint("predict", str(tmp_path / "a" / "model.pt"), str(made.queries[0][0])).stdout
    assert any(escaped in printed for escaped in (b"\\xd8rjan", b"\\u4e45", "久".encode()))
    sonicprint("compare", str(tmp_path / "a"), str(tmp_path / "b"))


def test_learning_curve_shares_are_sorted_once_each_and_the_whole_is_refused(capsys):
    from sonicprint.cli import _experiment_config

    args = build_parser().parse_args(["experiment", "m.csv", "--learning-curve", "0.5,0.25,0.5"])
    assert _experiment_config(args).learning_curve == (0.25, 0.5)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["experiment", "m.csv", "--learning-curve", "0.5,1"])
    assert "shares must lie between 0 and 1 (the whole training side is always measured), got 1" in (
        capsys.readouterr().err
    )


def test_calibrate_applies_to_every_model_a_run_may_choose(tmp_path):
    from sonicprint.cli import _experiment_config

    models = tmp_path / "models.toml"
    models.write_text('[[candidates]]\nname = "mlp"\n[[candidates]]\nname = "logreg"\n', encoding="utf-8")
    args = ["experiment", "m.csv", "--model", "lda", "--select-among", str(models)]
    plain = _experiment_config(build_parser().parse_args(args))
    assert [c.name for c in plain.selection.candidates] == ["mlp", "logreg"]
    assert {c.calibration for c in plain.selection.candidates} == {"none"}
    calibrated = _experiment_config(build_parser().parse_args([*args, "--calibrate"]))
    assert calibrated.model.calibration == "temperature"
    assert {c.calibration for c in calibrated.selection.candidates} == {"temperature"}


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["experiment", "m.csv"], "the features and every fold already trained are kept"),
        (["cnn", "m.csv"], "the same command with --resume goes on from it"),
        (["compare", "a", "b"], "run the same command again"),
    ],
)
def test_an_interrupted_command_says_what_it_kept_without_a_traceback(command, said, monkeypatch, capsys):
    from sonicprint import cli

    def interrupted(args):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, command[0], interrupted)
    assert main(command) == 130
    err = capsys.readouterr().err
    assert err.startswith("sonicprint: interrupted; ") and said in err and "Traceback" not in err
