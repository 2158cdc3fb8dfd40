"""The HTML report: every number it is given, every name escaped, its plots beside it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sonicprint.evaluation import evaluate
from sonicprint.report import (
    learning_curve_html,
    repeats_paragraph,
    robustness_html,
    selection_html,
    unknown_table_html,
    write_report,
)

LABELS = ["<b>Ørjan</b>", "A & B"]


def _metrics(**extra):  # type: ignore[no-untyped-def]
    reference = [LABELS[0], LABELS[1], LABELS[0], LABELS[1], LABELS[0]]
    estimate = [LABELS[0], LABELS[1], LABELS[1], LABELS[1], LABELS[0]]
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.45, 0.55], [0.3, 0.7], [0.6, 0.4]])
    metrics = evaluate(reference, estimate, LABELS, probabilities=probabilities)
    metrics.update(
        title="Producers <script>alert(1)</script>",
        model="lda",
        extractor="track_stats",
        evaluation="3-fold cross-validation grouped by album",
        grouping="album",
        folds=[{"part": "fold 1", "accuracy": 1.0}, {"part": "fold 2", "accuracy": None}],
        fold_accuracy_mean=0.8,
        fold_accuracy_std=0.1,
        n_tracks=5,
        data_hash="abc123",
        n_skipped=1,
        config={"model": {"name": "lda", "note": "</pre><script>"}},
        **extra,
    )
    return metrics


def test_the_report_escapes_every_name_and_writes_its_plots(tmp_path, rng):
    maps = {"tsne": rng.normal(size=(5, 2))}
    path = write_report(
        tmp_path, _metrics(), maps=maps, track_labels=[LABELS[0], LABELS[1]] * 2 + [LABELS[0]]
    )
    html = path.read_text(encoding="utf-8")
    assert path == tmp_path / "report.html"
    assert (tmp_path / "confusion.png").stat().st_size > 0 and (tmp_path / "map_tsne.png").stat().st_size > 0
    assert "<script>" not in html and "<b>Ørjan</b>" not in html
    assert "&lt;b&gt;Ørjan&lt;/b&gt;" in html and "A &amp; B" in html
    assert "Accuracy <b>80.0%</b> on 5 tracks" in html
    assert "fold 1: 1.000, fold 2: not scored" in html
    assert '<img src="map_tsne.png"' in html and '<img src="confusion.png"' in html


def test_tracks_not_scored_are_named_with_the_reason(tmp_path):
    metrics = _metrics(n_scored=4, not_scored={"Solo <maker>": 1})
    html = write_report(tmp_path, metrics, maps={}, track_labels=[]).read_text(encoding="utf-8")
    assert "on 4 of 5 tracks (not scored: Solo &lt;maker&gt; (1), whose tracks all share one album" in html


def test_the_unknown_table_has_a_row_per_threshold_and_the_unheard_column_only_when_measured():
    metrics = _metrics()
    rows = metrics["unknown_below"]
    plain = unknown_table_html(metrics)
    threshold_rows = re.findall(r"<tr><td>(\d\.\d\d)</td><td>[\d.]+%</td><td>([^<]+)</td>", plain)
    assert [float(t) for t, _ in threshold_rows] == [row["threshold"] for row in rows]
    assert ("-" in [acc for _, acc in threshold_rows]) is any(row["accuracy"] is None for row in rows)
    assert "never-heard" not in plain and "expected calibration error" in plain
    with_unheard = unknown_table_html({**metrics, "not_scored_unknown": [0.5] * len(rows)})
    assert with_unheard.count("<td>50.0%</td></tr>") == len(rows) and "never-heard" in with_unheard
    assert unknown_table_html({"unknown_below": []}) == ""


@pytest.mark.parametrize("with_windows", [False, True])
def test_repeats_paragraph_gives_mean_spread_and_each_seed(with_windows):
    repeats = {
        "seeds": [0, 1],
        "accuracy": [0.8, 0.9],
        "accuracy_mean": 0.85,
        "accuracy_std": 0.05,
        "macro_f1_mean": 0.8,
        "macro_f1_std": 0.02,
        "ece_mean": 0.1,
        "ece_std": 0.01,
    }
    if with_windows:
        repeats.update(window_accuracy=[0.7, 0.75], window_accuracy_mean=0.725, window_accuracy_std=0.025)
    text = repeats_paragraph(repeats)
    assert "Over 2 split seeds: accuracy <b>85.0% ± 5.0%</b>" in text and "0: 80.0%, 1: 90.0%" in text
    assert ("each window alone 72.5% ± 2.5%" in text) is with_windows
    assert repeats_paragraph(None) == ""


def test_tags_per_maker_name_each_tag_with_both_medians_and_a_dash_for_none(tmp_path):
    profile = {"network": "MSD_musicnn", "makers": {LABELS[0]: [["<jazz>", 0.61, 0.2]], LABELS[1]: []}}
    html = write_report(tmp_path, _metrics(tag_profile=[profile]), maps={}, track_labels=[]).read_text(
        encoding="utf-8"
    )
    assert "Tags per maker (MSD_musicnn)" in html
    assert "<td>&lt;b&gt;Ørjan&lt;/b&gt;</td><td>&lt;jazz&gt; 0.61 (0.20)</td>" in html
    assert "<td>A &amp; B</td><td>-</td>" in html


def test_the_learning_curve_has_a_row_per_share_and_says_what_the_last_step_added():
    curve = {
        "shares": [0.25, 0.5, 1.0],
        "seeds": [0, 1],
        "median_training_tracks_per_label": [2.0, 4.0, 8.0],
        "accuracy_mean": [0.70, 0.80, 0.87],
        "accuracy_std": [0.05, 0.02, 0.015],
    }
    html = learning_curve_html(curve)
    assert "<tr><td>25%</td><td>2</td><td>70.0% ± 5.0%</td></tr>" in html
    assert "<tr><td>100%</td><td>8</td><td>87.0% ± 1.5%</td></tr>" in html
    assert (
        "The last step (from 50% to all of them) adds +7.0 points" in html and "over 2 split seed(s)" in html
    )
    assert learning_curve_html(None) == ""


def test_choosing_a_model_lists_each_candidate_and_the_choices_accuracy():
    selection = {
        "models": ["lda, late fusion", "mlp (members=3) <b>"],
        "inner_folds": 3,
        "seeds": [0, 1],
        "accuracy_mean": 0.85,
        "accuracy_std": 0.01,
        "model_accuracy_mean": [0.86, 0.88],
        "model_accuracy_std": [0.02, 0.015],
        "inner_accuracy_mean": [0.80, 0.79],
        "times_picked": [7, 3],
        "best_afterwards": 1,
        "optimism": 0.03,
    }
    html = selection_html(selection)
    assert (
        "<tr><td>lda, late fusion (the model asked for)</td><td>86.0% ± 2.0%</td><td>80.0%</td><td>7</td>"
        in html
    )
    assert "<td>mlp (members=3) &lt;b&gt;</td><td><b>88.0% ± 1.5%</b></td><td>79.0%</td><td>3</td>" in html
    assert "inner 3-fold cross-validation" in html and "<b>85.0% ± 1.0%</b> over 2 split seed(s)" in html
    assert "would overstate what choosing does by 3.0 points" in html
    assert "does as well" in selection_html({**selection, "optimism": -0.01})
    assert selection_html(None) == ""
    once = selection_html({**selection, "seeds": [0]})
    assert "<b>85.0%</b> over 1 split seed(s)" in once and "±" not in once


def test_robustness_has_a_row_per_condition_with_its_drop_and_spread():
    robustness = {
        "clean": {"accuracy": 0.8, "n_scored": 10},
        "pitch <+2>": {"accuracy": 0.55, "n_scored": 10},
        "room reverb": {"accuracy": None, "n_scored": 0},
    }
    plain = robustness_html({"accuracy": 0.8, "robustness": robustness, "config": {"augment_copies": 0}})
    assert "<tr><td>clean</td><td>80.0%</td><td></td><td>10</td></tr>" in plain
    assert "<tr><td>pitch &lt;+2&gt;</td><td>55.0%</td><td>25.0</td><td>10</td></tr>" in plain
    assert "<tr><td>room reverb</td><td>–</td><td></td><td>0</td></tr>" in plain
    assert "trained on the tracks as they are" in plain and "split seeds" not in plain
    repeats = {
        "seeds": [0, 1, 2],
        "robustness clean_mean": 0.81,
        "robustness clean_std": 0.01,
        "robustness pitch <+2>_mean": 0.5,
        "robustness pitch <+2>_std": 0.04,
        "robustness room reverb_mean": None,
        "robustness room reverb_std": None,
    }
    metrics = {"accuracy": 0.8, "robustness": robustness, "repeats": repeats, "config": {"augment_copies": 3}}
    repeated = robustness_html(metrics)
    assert "<th>over 3 split seeds</th>" in repeated and "with degraded copies" in repeated
    assert "<td>55.0%</td><td>25.0</td><td>50.0% ± 4.0%</td><td>10</td>" in repeated
    assert "<td>–</td><td></td><td>–</td><td>0</td>" in repeated
    assert robustness_html({"accuracy": 0.8}) == ""
