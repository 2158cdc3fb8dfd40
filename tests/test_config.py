from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

import pytest

from sonicprint.config import (
    CleaningConfig,
    DeepExperimentConfig,
    ExperimentConfig,
    FeatureConfig,
    ModelConfig,
    SelectionConfig,
    SplitConfig,
    TrainConfig,
    config_changes,
    config_hash,
    from_dict,
    load_config_file,
    save_config,
    to_dict,
)
from sonicprint.errors import ConfigError


def test_round_trip_through_dict_and_file(tmp_path):
    config = ExperimentConfig(split=SplitConfig(folds=5, group="album"))
    assert from_dict(ExperimentConfig, to_dict(config)) == config
    save_config(config, tmp_path / "c.json")
    assert load_config_file(tmp_path / "c.json") == config


def test_cleaning_config_round_trip_defaults_and_refusals(tmp_path):
    config = CleaningConfig(artist_column="artist", title_column="title", instrumental_below=0.5)
    save_config(config, tmp_path / "clean.json")
    assert load_config_file(tmp_path / "clean.json", CleaningConfig) == config
    assert CleaningConfig().collection.min_duration_s == 30.0  # the second study's minimum
    assert CleaningConfig().tagger.extractor == "musicnn_mtt_tags"
    # the label is read anyway; only other credit columns are read besides it
    assert replace(config, artist_column="label").credit_columns == ("title",)
    with pytest.raises(ConfigError, match="instrumental_below"):
        CleaningConfig(instrumental_below=float("nan"))
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(CleaningConfig, {"drop_instrumentals": False})


def test_models_to_choose_among_read_from_a_toml_file(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text(
        'inner_folds = 4\n[[candidates]]\nname = "mlp"\nparams = {members = 3}\n'
        '[[candidates]]\nname = "lda"\nfusion = "late"\n',
        encoding="utf-8",
    )
    selection = load_config_file(path, SelectionConfig)
    assert selection == SelectionConfig(
        candidates=(ModelConfig("mlp", {"members": 3}), ModelConfig("lda", {}, "late")), inner_folds=4
    )
    config = ExperimentConfig(selection=selection)
    assert from_dict(ExperimentConfig, to_dict(config)) == config


def test_toml_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'executor = "serial"\n[split]\nfolds = 4\n[model]\nname = "lda"\n[model.params]\nshrinkage = 0.5\n',
        encoding="utf-8",
    )
    config = load_config_file(path)
    assert (
        config.split.folds == 4 and config.model.name == "lda" and config.model.params == {"shrinkage": 0.5}
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"splitt": {}}, r"unknown key\(s\) splitt"),
        ({"split": {"folds": "3"}}, "expected int"),
        ({"split": {"folds": 1}}, "at least 2"),
        ({"split": {"repeats": 0}}, "repeats must be at least 1"),
        ({"features": {"hop_length": 4096}}, "hop_length"),
        ({"maps": "tsne"}, "expected a list"),
        ({"collection": {"min_tracks_per_label": 0}}, "min_tracks_per_label must be at least 1, got 0"),
        ({"collection": {"min_duration_s": -1.0}}, "min_duration_s must be 0 or more seconds, got -1"),
        ({"collection": {"min_duration_s": float("nan")}}, "min_duration_s must be 0 or more seconds"),
        ({"collection": {"label": ""}}, "label and path columns must be named"),
        ({"features": {"window_s": float("nan")}}, "window_s must be positive"),
        ({"features": {"n_mels": 0}}, "need 0 < n_mfcc <= n_mels"),
        ({"features": {"n_mfcc": 40, "n_mels": 32}}, "n_mfcc=40, n_mels=32"),
        ({"split": {"seed": -1}}, "seed must be 0 or more, got -1"),
        ({"workers": -1}, "workers must be 0"),
        ({"learning_curve": [0.5, 1.0, 2]}, r"learning curve shares must lie between 0 and 1 .*, got 1, 2$"),
        ({"learning_curve": [0.0]}, "learning curve shares must lie between 0 and 1 .*, got 0$"),
        ({"selection": {"inner_folds": 1}}, "inner_folds must be at least 2, got 1"),
        ({"selection": {"candidates": {"name": "lda"}}}, r"selection\.candidates: expected a list"),
        (
            {"selection": {"candidates": [{"nme": "lda"}]}},
            r"selection\.candidates\[0\]: unknown key\(s\) nme",
        ),
        ({"selection": {"candidates": [{"fusion": "middle"}]}}, "model fusion must be 'early' or 'late'"),
    ],
)
def test_bad_values_are_rejected(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(ExperimentConfig, data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"train": {"lr": 0.0}}, "lr must be positive"),
        ({"train": {"lr_range_steps": 1}}, "lr_range_steps must be at least 2 \\(batches\\), got 1"),
        ({"train": {"momentum": 1.5}}, r"momentum must be in \[0, 1\), got 1.5"),
        ({"train": {"weight_decay": -1.0}}, "weight decay must be 0 or more"),
        ({"train": {"batch_size": -2}}, "batch_size must be 0 or more, got -2"),
        ({"train": {"patience": -1}}, "patience must be 0 or more"),
        ({"train": {"spectrogram_cache_mb": -1}}, "spectrogram_cache_mb must be 0 or more, got -1"),
        ({"train": {"n_mels": 0}}, "n_mels must be positive"),
        ({"train": {"clip_s": float("nan")}}, "clip_s, hop_s, epochs and n_mels must be positive"),
        ({"train": {"device": "tpu"}}, "device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
        ({"val_fraction": 0.0}, r"val_fraction must be in \(0, 1\)"),
        ({"grid_epochs": 0}, "grid_epochs must be at least 1"),
        (
            {"train": {"clip_s": 30.0}},
            r"train\.clip_s \(30 s\) is longer than the windows read from each track \(audio\.window_s 20",
        ),
        ({"grid_momentum": [2.0]}, "momentum must be in"),
        ({"grid_weight_decay": [-1e-4, 1e-4]}, "weight decay must be 0 or more, got -0.0001"),
        ({"train": {"augment": {"noise_prob": 1.5}}}, r"noise_prob must be a probability in \[0, 1\]"),
        ({"train": {"augment": {"time_masks": -1}}}, "time_masks must be 0 or more"),
        ({"train": {"augment": {"tempo_change": 1.0}}}, r"tempo_change must be in \[0, 1\)"),
    ],
)
def test_bad_network_values_are_rejected(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(DeepExperimentConfig, data)


def test_config_changes_name_each_dotted_key_that_differs():
    before = to_dict(DeepExperimentConfig())
    after = to_dict(replace(DeepExperimentConfig(), train=replace(TrainConfig(), epochs=3, device="cpu")))
    assert config_changes(before, after) == ['train.device: "auto" -> "cpu"', "train.epochs: 30 -> 3"]
    assert config_changes(before, after, ignore=("train.device",)) == ["train.epochs: 30 -> 3"]
    assert config_changes({"a": {"b": 1}}, {"a": {"b": 1}, "c": []}) == ["c: null -> []"]


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FeatureConfig().n_mels = 3  # type: ignore[misc]


def test_hash_changes_with_any_value():
    assert config_hash(FeatureConfig()) == config_hash(FeatureConfig())
    assert config_hash(FeatureConfig()) != config_hash(FeatureConfig(n_mels=64))


def test_unreadable_config_file_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.json"):
        load_config_file(path)
    with pytest.raises(ConfigError, match=r"missing\.json"):
        load_config_file(tmp_path / "missing.json")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[split]\nrepeat = 2\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"wrong\.toml: config\.split: unknown key\(s\) repeat; allowed: .*repeats"
    ):
        load_config_file(wrong)
    wrong.write_text("[split]\nrepeats = 0\n", encoding="utf-8")  # a value refused by the config itself
    with pytest.raises(ConfigError, match=r"wrong\.toml: repeats must be at least 1, got 0"):
        load_config_file(wrong)
    json.loads(json.dumps(to_dict(ExperimentConfig())))  # always JSON-ready


def test_augmentation_presets():
    from sonicprint.config import AugmentConfig

    assert AugmentConfig.preset("none") == AugmentConfig()
    assert AugmentConfig.preset("fast").varispeed_pitch and not AugmentConfig.preset("robust").varispeed_pitch
    with pytest.raises(ConfigError, match="known: none, fast, robust"):
        AugmentConfig.preset("heavy")


def test_a_network_experiment_refuses_repeats():
    with pytest.raises(ConfigError, match="runs its folds once"):
        DeepExperimentConfig(split=SplitConfig(repeats=2))


@pytest.mark.parametrize("extractor", ["mix_stats", "musicnn_msd_penultimate"])
def test_a_network_experiment_refuses_another_extractor_for_its_audio(extractor):
    # another extractor would decode at its own rate or in stereo, not what the network's log-mel expects
    with pytest.raises(ConfigError, match=f"audio.extractor is '{extractor}', but a network reads"):
        DeepExperimentConfig(audio=FeatureConfig(extractor=extractor))
