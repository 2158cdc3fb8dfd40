"""HTML report with PNG plots: metrics, per-label table, confusion matrix and 2-D maps of the tracks."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(matrix: np.ndarray, labels: Sequence[str], path: Path, *, title: str) -> Path:
    plt = _pyplot()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * n + 3), max(4, 0.6 * n + 2)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() if matrix.size else 0
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if matrix[i, j] > top / 2 else "black",
                )
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_map(points: np.ndarray, labels: Sequence[str], path: Path, *, title: str) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5.5))
    names = sorted(set(labels))
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    for k, name in enumerate(names):
        mask = np.array([lab == name for lab in labels])
        ax.scatter(points[mask, 0], points[mask, 1], s=22, color=cmap(k % cmap.N), label=name, alpha=0.85)
    ax.legend(fontsize=7, loc="best", markerscale=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def decoders_sentence(decoders: dict[str, int] | None) -> str:
    """Which decoding backends read the tracks, for a report (empty for runs that did not record it)."""
    if not decoders:
        return ""
    return " Read by " + ", ".join(f"{html.escape(name)} ({n})" for name, n in decoders.items()) + "."


def unknown_table_html(metrics: dict[str, Any]) -> str:
    """HTML: the table for choosing ``--unknown-below``: per threshold, the tracks still answered and
    the accuracy on them, and (grouped splits) the share of never-heard makers' tracks it turns away."""
    rows = metrics.get("unknown_below")
    if not rows:
        return ""
    unheard = metrics.get("not_scored_unknown")
    head = "<tr><th>unknown below</th><th>tracks answered</th><th>accuracy on them</th>"
    head += "<th>never-heard makers' tracks answered unknown</th></tr>" if unheard else "</tr>"
    body = ""
    for i, row in enumerate(rows):
        acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
        body += f"<tr><td>{row['threshold']:.2f}</td><td>{row['answered']:.1%}</td><td>{acc}</td>"
        body += f"<td>{unheard[i]:.1%}</td></tr>" if unheard else "</tr>"
    return (
        '<h2>Answering "unknown"</h2><p>With <code>--unknown-below T</code>, <code>predict</code> answers '
        '"unknown" when the best probability is below T. Measured on the scored tracks above:</p>'
        f"<table>{head}{body}</table>{background_html(metrics)}{calibration_html(metrics)}"
    )


def background_html(metrics: dict[str, Any]) -> str:
    """HTML: what the background class (tracks by none of the makers) does, when the run has one."""
    summary = metrics.get("background")
    if not summary:
        return ""

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    return (
        f'<p>Background class <b>{html.escape(summary["background"])}</b> (answered "unknown" by '
        f"<code>predict</code>): {share(summary['background_turned_away'])} of its "
        f"{summary['background_tracks']} tracks were turned away; the makers' {summary['known_tracks']} "
        f"tracks were given a maker {share(summary['known_answered'])} of the time, the right one in "
        f"{share(summary['known_accuracy_on_answered'])} of those.</p>"
    )


def calibration_html(metrics: dict[str, Any]) -> str:
    """HTML: how far the probabilities can be taken at their word (expected calibration error, Brier
    score) and the reliability bins behind them."""
    calibration = metrics.get("calibration")
    if not calibration:
        return ""
    body = "".join(
        f"<tr><td>{r['low']:.1f}-{r['high']:.1f}</td><td>{r['n']}</td><td>{r['confidence']:.1%}</td>"
        f"<td>{r['accuracy']:.1%}</td></tr>"
        for r in calibration["reliability"]
    )
    scaled = (
        f" The probabilities were temperature-scaled (temperature {calibration['temperature']:.2f} for the "
        "saved model; each part's by one fitted on the other parts' held-out tracks)."
        if "temperature" in calibration
        else ""
    )
    return (
        f"<p>Calibration: expected calibration error {calibration['ece']:.3f} (0 when tracks given 0.8 are "
        f"right 80% of the time), Brier score {calibration['brier']:.3f} (0 to 2, lower is better)."
        f"{scaled}</p>"
        "<table><tr><th>best probability</th><th>tracks</th><th>mean best probability</th>"
        f"<th>accuracy</th></tr>{body}</table>"
    )


def repeats_paragraph(repeats: dict[str, Any] | None) -> str:
    """The accuracy and macro F1 over repeated evaluations with other split seeds, each run's figures."""
    if not repeats:
        return ""
    seeds = repeats["seeds"]
    each = ", ".join(f"{seed}: {acc:.1%}" for seed, acc in zip(seeds, repeats["accuracy"]))
    window = (
        f", each window alone {repeats['window_accuracy_mean']:.1%} ± {repeats['window_accuracy_std']:.1%}"
        if "window_accuracy" in repeats
        else ""
    )
    return (
        f"<p>Over {len(seeds)} split seeds: accuracy <b>{repeats['accuracy_mean']:.1%} ± "
        f"{repeats['accuracy_std']:.1%}</b>, macro F1 {repeats['macro_f1_mean']:.3f} ± "
        f"{repeats['macro_f1_std']:.3f}{window}, expected calibration error {repeats['ece_mean']:.3f} ± "
        f"{repeats['ece_std']:.3f} (per seed: {each}). Every table below, the maps and "
        f"<code>predictions.csv</code> are of seed {seeds[0]}.</p>"
    )


def tag_profile_html(profiles: list[dict[str, Any]] | None) -> str:
    """HTML: per maker, the musicnn tags its tracks get more than the collection's."""
    if not profiles:
        return ""
    e = html.escape
    parts = []
    for profile in profiles:
        rows = "".join(
            f"<tr><td>{e(maker)}</td><td>"
            + (", ".join(f"{e(tag)} {mine:.2f} ({overall:.2f})" for tag, mine, overall in tags) or "-")
            + "</td></tr>"
            for maker, tags in profile["makers"].items()
        )
        parts.append(
            f"<h2>Tags per maker ({e(profile['network'])})</h2><p>The tags the pretrained tagger gives each "
            "maker's tracks more than the collection's: the maker's median probability, the collection's in "
            f"brackets.</p><table><tr><th>maker</th><th>tags</th></tr>{rows}</table>"
        )
    return "".join(parts)


def learning_curve_html(curve: dict[str, Any] | None) -> str:
    """HTML: track accuracy against the share of the training tracks, and what the last step added."""
    if not curve:
        return ""
    rows = "".join(
        f"<tr><td>{share:.0%}</td><td>{tracks:.0f}</td><td>{mean:.1%} ± {std:.1%}</td></tr>"
        for share, tracks, mean, std in zip(
            curve["shares"],
            curve["median_training_tracks_per_label"],
            curve["accuracy_mean"],
            curve["accuracy_std"],
        )
    )
    means, shares = curve["accuracy_mean"], curve["shares"]
    step = (
        f" The last step (from {shares[-2]:.0%} to all of them) adds {100 * (means[-1] - means[-2]):+.1f} "
        "points: still climbing, more tracks per maker would likely help; flat, they would not."
        if len(means) > 1
        else ""
    )
    return (
        "<h2>Learning curve</h2><p>Each part retrained on a share of its training tracks (per maker; smaller "
        f"shares nested in larger ones) and scored on the same held-out tracks, over {len(curve['seeds'])} "
        f"split seed(s).{step}</p><table><tr><th>share of training tracks</th><th>median tracks per maker"
        f"</th><th>track accuracy</th></tr>{rows}</table>"
    )


def robustness_html(metrics: dict[str, Any]) -> str:
    """HTML: track accuracy with the held-out tracks transformed (tempo, pitch, filters, MP3, noise, room),
    each condition's drop from the tracks as they are, and its spread over split seeds when repeated."""
    robustness = metrics.get("robustness")
    if not robustness:
        return ""
    e = html.escape
    repeats = metrics.get("repeats") or {}
    clean = (robustness.get("clean") or {}).get("accuracy")
    if clean is None:
        clean = metrics["accuracy"]

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.1%}"

    rows = []
    for name, result in robustness.items():
        accuracy = result["accuracy"]
        drop = "" if accuracy is None or name == "clean" else f"{100 * (clean - accuracy):.1f}"
        spread = ""
        if repeats:
            mean, std = repeats.get(f"robustness {name}_mean"), repeats.get(f"robustness {name}_std")
            spread = f"<td>{cell(mean)} ± {cell(std)}</td>" if mean is not None else "<td>–</td>"
        rows.append(
            f"<tr><td>{e(name)}</td><td>{cell(accuracy)}</td><td>{drop}</td>{spread}"
            f"<td>{result['n_scored']}</td></tr>"
        )
    seeds = f"<th>over {len(repeats['seeds'])} split seeds</th>" if repeats else ""
    augmented = (
        "trained with degraded copies of its training tracks"
        if metrics.get("config", {}).get("augment_copies")
        else "trained on the tracks as they are (degraded copies, --augment-copies, shrink the drops)"
    )
    return (
        "<h2>Robustness: held-out tracks transformed</h2><p>Each part's model, "
        f"{augmented}, also named its held-out tracks sped up, slowed down, pitch-shifted, filtered, "
        "MP3-encoded, noisy or in a room (each window and channel transformed, then its features computed); "
        "no transformed track is ever trained on.</p><table><tr><th>condition</th><th>track accuracy</th>"
        f"<th>drop (points)</th>{seeds}<th>tracks scored</th></tr>{''.join(rows)}</table>"
    )


def selection_html(selection: dict[str, Any] | None) -> str:
    """HTML: each candidate model's accuracy on the outer parts, its inner accuracy and how often the
    parts chose it, and the accuracy of their choices (:func:`sonicprint.selection.nested_selection`)."""
    if not selection:
        return ""
    e = html.escape
    best = selection["best_afterwards"]
    repeated = len(selection["seeds"]) > 1

    def share(mean: float, std: float) -> str:  # a spread only where there are seeds to spread over
        return f"{mean:.1%} ± {std:.1%}" if repeated else f"{mean:.1%}"

    own = " (the model asked for)"
    rows = "".join(
        f"<tr><td>{e(name)}{own if k == 0 else ''}</td>"
        f"<td>{'<b>' if k == best else ''}{share(mean, std)}{'</b>' if k == best else ''}</td>"
        f"<td>{inner:.1%}</td><td>{picked}</td></tr>"
        for k, (name, mean, std, inner, picked) in enumerate(
            zip(
                selection["models"],
                selection["model_accuracy_mean"],
                selection["model_accuracy_std"],
                selection["inner_accuracy_mean"],
                selection["times_picked"],
            )
        )
    )
    chosen = share(selection["accuracy_mean"], selection["accuracy_std"])
    optimism = selection["optimism"]
    verdict = (
        f"Quoting the best model chosen afterwards ({e(selection['models'][best])}) would overstate what "
        f"choosing does by {100 * optimism:.1f} points."
        if optimism > 0
        else "Here the choosing does as well as the best model chosen afterwards."
    )
    return (
        "<h2>Choosing a model, measured</h2><p>Each part chose among these models by an inner "
        f"{selection['inner_folds']}-fold cross-validation of its own training tracks (grouped like the "
        "split), and its held-out tracks were named by the model it chose: the accuracy of the choosing is "
        f"<b>{chosen}</b> over {len(selection['seeds'])} split seed(s). {verdict}</p><table><tr><th>model"
        "</th><th>accuracy on the parts</th><th>mean inner accuracy</th><th>chosen by parts</th></tr>"
        f"{rows}<tr><td><b>chosen part by part</b></td><td><b>{chosen}</b></td><td></td><td></td></tr>"
        "</table><p>The model chosen afterwards is also what the same choosing picks with every track to "
        "learn from: every other table of this report and the saved model are of it, and the choosing's "
        "accuracy is the figure to expect of it on new tracks.</p>"
    )


def write_report(
    out_dir: Path, metrics: dict[str, Any], *, maps: dict[str, np.ndarray], track_labels: Sequence[str]
) -> Path:
    """Write ``report.html`` (and its PNGs) for the metrics of :func:`sonicprint.evaluation.evaluate`."""
    from .evaluation import MAPS

    labels = metrics["labels"]
    confusion_png = plot_confusion(
        np.array(metrics["confusion"]),
        labels,
        out_dir / "confusion.png",
        title="Confusion matrix (out-of-fold)",
    )
    images = [confusion_png.name]
    for method, points in maps.items():
        png = plot_map(
            points,
            track_labels,
            out_dir / f"map_{method}.png",
            title=f"{MAPS.get(method)} map of the tracks ({metrics['model']} embedding)",
        )
        images.append(png.name)
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r['label'])}</td><td>{r['support']}</td><td>{r['precision']:.3f}</td>"
        f"<td>{r['recall']:.3f}</td><td>{r['f1']:.3f}</td><td>{r['accuracy']:.3f}</td></tr>"
        for r in metrics["per_label"]
    )
    summary = "".join(
        f"<tr><td>{avg}</td><td>{metrics[avg]['precision']:.3f}</td><td>{metrics[avg]['recall']:.3f}</td>"
        f"<td>{metrics[avg]['f1']:.3f}</td></tr>"
        for avg in ("macro", "weighted", "micro")
    )
    folds = ", ".join(
        f"{f['part']}: " + ("not scored" if f["accuracy"] is None else f"{f['accuracy']:.3f}")
        for f in metrics["folds"]
    )
    n_tracks, n_scored = metrics["n_tracks"], metrics.get("n_scored", metrics["n_tracks"])
    scored_tracks = f"{n_tracks} tracks" if n_scored == n_tracks else f"{n_scored} of {n_tracks} tracks"
    not_scored = metrics.get("not_scored") or {}
    if not_scored:
        scored_tracks += (
            " (not scored: " + ", ".join(f"{e(lab)} ({n})" for lab, n in not_scored.items()) + ", whose "
            f"tracks all share one {e(metrics['grouping'])}, so no model saw the label when they were tested)"
        )
    unknown_html = unknown_table_html(metrics)
    window = metrics.get("window")
    window_html = (
        f"<p>Each window judged alone: accuracy <b>{window['accuracy']:.1%}</b>, macro F1 "
        f"{window['macro']['f1']:.3f} ({window['n']} distinct windows: a track shorter than a window counts "
        "it once); the track verdicts above combine each track's windows (mean log-probability).</p>"
        if window
        else ""
    )
    repeats_html = repeats_paragraph(metrics.get("repeats"))
    profile = metrics.get("mix_profile")
    profile_html = ""
    if profile:
        head = "".join(f"<th>{e(c)}</th>" for c in profile["columns"])
        body_rows = "".join(
            f"<tr><td>{e(maker)}</td>" + "".join(f"<td>{v:.2f}</td>" for v in values) + "</tr>"
            for maker, values in profile["makers"].items()
        )
        profile_html = (
            "<h2>Mix fingerprint per maker</h2><p>Median over each maker's tracks of the mix fingerprint "
            "(<code>mix_stats</code>): how wide and how loud they mix, how much dynamics they keep, where "
            f"their spectrum ends.</p><table><tr><th>maker</th>{head}</tr>{body_rows}</table>"
        )
    tags_html = tag_profile_html(metrics.get("tag_profile"))
    curve_html = learning_curve_html(metrics.get("learning_curve"))
    robustness = robustness_html(metrics)
    selection = selection_html(metrics.get("selection"))
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>{e(metrics["title"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}
.big{{font-size:1.6em}}code{{background:#f4f4f4;padding:0 .2em}}
img{{max-width:100%}}</style></head><body>
<h1>{e(metrics["title"])}</h1>
<p class="big">Accuracy <b>{metrics["accuracy"]:.1%}</b> on {scored_tracks},
{len(labels)} labels (chance: {metrics["chance"]["uniform"]:.1%} uniform,
{metrics["chance"]["majority"]:.1%} majority).</p>{repeats_html}{window_html}
<p>Model <code>{e(metrics["model"])}</code> on features <code>{e(metrics["extractor"])}</code>.
Evaluation: <b>{e(metrics["evaluation"])}</b>: no {e(metrics["grouping"])} appears in both the training
and the test side of any fold; every track is predicted once, by a model that never saw it.
Accuracy per part: {folds} (mean {metrics["fold_accuracy_mean"]:.3f} ± {metrics["fold_accuracy_std"]:.3f}).
Data hash <code>{metrics["data_hash"]}</code>; {metrics["n_skipped"]} file(s) skipped (see
<code>problems.txt</code>).{decoders_sentence(metrics.get("decoders"))}</p>
<h2>Averages</h2><table><tr><th>average</th><th>precision</th><th>recall</th><th>F1</th></tr>{summary}</table>
{unknown_html}
{curve_html}
{robustness}
{selection}
<h2>Per label (one vs all)</h2>
<table><tr><th>label</th><th>tracks</th><th>precision</th><th>recall</th><th>F1</th><th>accuracy</th></tr>{rows}</table>
{profile_html}
{tags_html}
{"".join(f'<p><img src="{e(name)}" alt="{e(name)}"></p>' for name in images)}
<h2>Resolved configuration</h2><pre>{e(json.dumps(metrics["config"], indent=2))}</pre>
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(body, encoding="utf-8")
    return path
