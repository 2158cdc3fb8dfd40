"""Identify the maker of new recordings with a saved model: top-k makers with probabilities per file."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .audio import probe_audio
from .errors import AudioTooShortError, ConfigError, FileProblem
from .models import load_model
from .pipeline import compute_feature_sets, require_sound

UNKNOWN = "unknown"
#: a file shorter than this is an error, not a verdict: under a second holds too little timbre or mix
MIN_DURATION_S = 1.0


@dataclass
class FilePrediction:
    """The verdict for one file: top-k (label, probability), the answer, or the error that stopped it."""

    path: str
    top: list[tuple[str, float]] = field(default_factory=list)
    verdict: str = ""
    error: str | None = None
    seconds: float = 0.0
    #: the model's embedding of the file, when asked for (``predict(..., embed=True)``); not in as_dict
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "verdict": self.verdict,
            "error": self.error,
            "top": [{"label": lab, "probability": round(p, 4)} for lab, p in self.top],
            "seconds": round(self.seconds, 3),
        }


class Predictor:
    """A saved model loaded once, then asked about any number of files (the CLI batch, the web page).

    Raises
    ------
    ModelFormatError
        When the model file is missing, damaged or not a Sonicprint model.
    """

    def __init__(self, model_path: str | Path) -> None:
        self.model_path = Path(model_path)
        self.loaded = load_model(model_path)
        extra = self.loaded.meta.get("extra") or {}
        #: the label meaning "none of the makers" (answered "unknown"); empty when the model has none
        self.background: str = str(extra.get("background") or "")

    @property
    def labels(self) -> list[str]:
        return list(self.loaded.labels)

    def describe(self) -> dict[str, object]:
        """What the model is: its file, kind, name, constructor arguments, makers and how it decides, for
        people and pages."""
        from .deep.serialize import LoadedNetwork

        if isinstance(self.loaded, LoadedNetwork):
            trained = self.loaded.trained
            kind, name = "spectrogram network", trained.config.network
            arguments = dict(trained.config.network_params)
            decides = f"{trained.config.clip_s:g} s clips, mean log-probability per file"
        else:
            kind, name = "feature model", str(self.loaded.meta.get("model_name") or self.loaded.model.name)
            arguments = dict(self.loaded.meta.get("model_args") or self.loaded.model.params)
            extractors = " + ".join(c.spec for c in self.loaded.feature_configs)
            per_window = ", per window, mean log-probability per file" if self.loaded.per_window else ""
            decides = f"{extractors} features{per_window}"
        temperature = _temperature(self.loaded)
        if temperature is not None:
            decides += f"; probabilities temperature-scaled ({temperature:.2f})"
        meta = self.loaded.meta
        extra = meta.get("extra") or {}
        return {
            "model": str(self.model_path),
            "kind": kind,
            "name": name,
            "arguments": arguments,
            "labels": self.labels,
            "background": self.background,
            "decides": decides,
            "trained": {
                "created": meta.get("created"),
                "data_hash": extra.get("data_hash"),
                "grouping": extra.get("grouping"),
                "versions": meta.get("versions") or {},
            },
        }

    def predict(
        self,
        path: str | Path,
        *,
        top_k: int = 3,
        unknown_below: float = 0.0,
        name: str | None = None,
        embed: bool = False,
    ) -> FilePrediction:
        """The verdict for one file; a file that cannot be read gets an error, never an exception.

        ``unknown_below``: when the best probability is below it, the verdict is ``"unknown"``.
        ``name``: how the file is named in the result (default: its path). ``embed``: also keep the
        model's embedding of the file (as :meth:`embed` gives it) from the same analysis.
        """
        shown = name or str(path)
        started = time.perf_counter()
        try:
            proba, embedding = _analyse(self.loaded, path, embed=embed)
        except FileProblem as exc:
            return FilePrediction(shown, error=exc.problem, seconds=time.perf_counter() - started)
        order = np.argsort(-proba)[: max(top_k, 1)]
        top = [(self.loaded.labels[i], float(proba[i])) for i in order]
        sure = top[0][1] >= unknown_below and top[0][0] != self.background
        verdict = top[0][0] if sure else UNKNOWN
        vector = None if embedding is None else np.asarray(embedding, dtype=np.float32)
        return FilePrediction(shown, top, verdict, None, time.perf_counter() - started, vector)

    def embed(self, path: str | Path) -> np.ndarray:
        """The model's embedding of one file ``(dim,)`` float32: the space its t-SNE maps show, where
        recordings the model finds alike lie close (for "sounds like this" search).

        Raises
        ------
        FileProblem
            When the file cannot be read as audio (or is too short).
        """
        embedding = _analyse(self.loaded, path, embed=True)[1]
        assert embedding is not None
        return np.asarray(embedding, dtype=np.float32)

    def known_maker(self, maker: str) -> str:
        """``maker``, checked: a ConfigError listing the makers the model knows when it is not one."""
        if maker not in self.labels:
            raise ConfigError(f"the model knows no maker {maker!r}; it knows: {', '.join(self.labels)}")
        return maker

    def maker_centroid(self, maker: str) -> np.ndarray:
        """``maker``'s direction in the model's embedding space ``(dim,)``: the mean of their training
        tracks' unit-length embeddings, the query of "sounds like this maker".

        Raises
        ------
        ConfigError
            When the model does not know ``maker`` (the error lists the makers it knows), or was saved
            without maker centroids (by an older version).
        """
        centroids = self.loaded.maker_centroids
        self.known_maker(maker)
        if centroids is None:
            raise ConfigError(
                f"{self.model_path} was saved without maker centroids (an older version made it); "
                "train it again to search by maker"
            )
        return np.asarray(centroids[self.labels.index(maker)], dtype=np.float32)


def describe_model(model_path: str | Path) -> dict[str, object]:
    """:meth:`Predictor.describe`, and how well the model did in the run that saved it
    (:func:`run_evaluation`, under ``"evaluated"``)."""
    described = Predictor(model_path).describe()
    trained = described["trained"]
    assert isinstance(trained, dict)
    described["evaluated"] = run_evaluation(model_path, trained.get("data_hash"))
    return described


def run_evaluation(model_path: str | Path, data_hash: object) -> dict[str, object] | None:
    """The cross-validated accuracy, macro F1, evaluation and tracks of the ``metrics.json`` beside a saved
    model, when that run saw the model's data (``data_hash``); None when there is no such file. With them
    the mean and spread over repeated split seeds (``repeats``, None when the run had one), the tags per
    maker (``tags``: network -> maker -> [tag, maker's median, collection's median], empty without) and,
    for a model a run chose among others, the accuracy of that choosing (``chosen``, None otherwise)."""
    import json

    try:
        metrics = json.loads((Path(model_path).parent / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scores = metrics.get("track") or metrics  # a network's track-level figures, or an experiment's
    if not data_hash or metrics.get("data_hash") != data_hash or not isinstance(scores, dict):
        return None
    if "accuracy" not in scores:
        return None
    repeats = metrics.get("repeats") if isinstance(metrics.get("repeats"), dict) else None
    selection = metrics.get("selection")
    return {
        "accuracy": scores["accuracy"],
        "macro_f1": (scores.get("macro") or {}).get("f1"),
        "evaluation": metrics.get("evaluation"),
        "n_tracks": metrics.get("n_scored", metrics.get("n_tracks")),
        "repeats": None
        if not repeats
        else {
            k: repeats.get(k)
            for k in ("seeds", "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std")
        },
        "tags": {profile["network"]: profile["makers"] for profile in metrics.get("tag_profile") or []},
        "chosen": None
        if not isinstance(selection, dict)
        else {
            "among": selection.get("models"),
            **{k: selection.get(k) for k in ("inner_folds", "accuracy_mean", "accuracy_std")},
        },
    }


@dataclass
class Embeddings:
    """Embeddings of files by one model: row ``i`` of ``vectors`` belongs to ``paths[i]``; files that could
    not be read are in ``errors`` as (path, problem)."""

    paths: list[str]
    vectors: np.ndarray
    errors: list[tuple[str, str]] = field(default_factory=list)

    def most_similar(self, target: np.ndarray, *, top_n: int = 10) -> list[tuple[str, float]]:
        """The ``top_n`` (path, cosine similarity to ``target``) pairs, most similar first."""
        from .models import cosine_similarity

        if not self.paths:
            return []
        return _best(self.paths, cosine_similarity(target, self.vectors), top_n)


def embed_files(model_path: str | Path, files: Sequence[str | Path], *, workers: int = 1) -> Embeddings:
    """Embed each file with a saved model; a file that cannot be read is listed and the others go on.
    ``workers``: processes sharing the files (0: one per core; 1: this process)."""
    return _embed_all(Predictor(model_path), files, workers=workers)


def _embed_all(predictor: Predictor, files: Sequence[str | Path], *, workers: int = 1) -> Embeddings:
    jobs = _file_jobs(predictor.model_path, files, "embed", workers=workers)
    paths, vectors, errors = [], [], []
    for job, outcome in _in_order(predictor, jobs, workers=workers):
        if isinstance(outcome, BaseException):
            errors.append((job.path, _problem(outcome)))
        else:
            paths.append(job.path)
            vectors.append(np.asarray(outcome, dtype=np.float32))
    dim = vectors[0].shape[0] if vectors else 0
    return Embeddings(paths, np.stack(vectors) if vectors else np.zeros((0, dim), np.float32), errors)


@dataclass
class EmbedSummary:
    """What :func:`embed_to_npz` did: files embedded in this run, files whose embedding the output or its
    progress file already held, and (path, problem) for files that could not be read."""

    out: Path
    embedded: int
    skipped: int
    errors: list[tuple[str, str]]
    dim: int


def embed_to_npz(
    model_path: str | Path,
    files: Sequence[str | Path],
    out_npz: str | Path,
    *,
    workers: int = 1,
    progress: bool = False,
) -> EmbedSummary:
    """Embed each file with a saved model into ``out_npz`` (arrays ``paths``, ``embeddings`` and
    ``model_sha256``, in the order of ``files``); a file that cannot be read is listed in the summary and
    the others go on. ``workers``: processes sharing the files (0: one per core; 1: this process).

    Resumable: each embedding is appended to ``<out>.progress.jsonl`` as soon as it is computed, and
    files already in the output or that progress file are not embedded again, so running the same command
    after an interruption goes on where it stopped. The ``.npz`` is written (atomically) at the end, and
    the progress file removed.

    Raises
    ------
    ConfigError
        When the output or its progress file was made with another model.
    """
    import json

    from tqdm import tqdm

    from .collection import content_hash

    out = Path(out_npz)
    progress_path = out.with_name(out.name + ".progress.jsonl")
    predictor = Predictor(model_path)
    model_sha = content_hash(model_path)
    done: dict[str, np.ndarray] = {}
    if out.is_dir():
        raise FileProblem(out, "is a folder; pass the embeddings file to write, such as embeddings.npz")
    if out.exists():
        try:
            previous, made_by = _read_embeddings(out)
        except FileProblem as exc:
            raise FileProblem(out, f"{exc.problem}; pass a new output file") from exc
        if made_by:  # one written before outputs named their model is made again
            _require_same_model(out, made_by, model_sha)
            done.update(zip(previous.paths, previous.vectors))
    if progress_path.exists():
        lines = _whole_lines(progress_path).splitlines()  # a line cut short: its file is embedded again
        header = json.loads(lines[0]) if lines else {}
        _require_same_model(progress_path, str(header.get("model_sha256", "")), model_sha)
        for line in lines[1:]:
            entry = json.loads(line)
            done[entry["path"]] = np.asarray(entry["embedding"], dtype=np.float32)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        progress_path.write_text(
            json.dumps({"model": str(model_path), "model_sha256": model_sha}) + "\n", encoding="utf-8"
        )
    todo = [str(f) for f in files if str(f) not in done]
    failed: list[tuple[int, str, str]] = []
    jobs = _file_jobs(model_path, todo, "embed", workers=workers)
    with (
        progress_path.open("a", encoding="utf-8") as handle,
        tqdm(total=len(jobs), desc="embed", unit="file", disable=not progress) as bar,
    ):
        for index, outcome in _run_files(predictor, jobs, workers=workers):
            bar.update(1)
            path = jobs[index].path
            if isinstance(outcome, BaseException):
                failed.append((index, path, _problem(outcome)))
                continue
            vector = np.asarray(outcome, dtype=np.float32)
            done[path] = vector
            handle.write(json.dumps({"path": path, "embedding": vector.tolist()}) + "\n")
            handle.flush()  # on disk before the next file starts: an interruption loses one at most
    errors = [(path, problem) for _, path, problem in sorted(failed)]  # in the order of ``files``
    wanted = [str(f) for f in files if str(f) in done]
    vectors = (
        np.stack([done[p] for p in wanted]).astype(np.float32) if wanted else np.zeros((0, 0), np.float32)
    )
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, paths=np.array(wanted, dtype=str), embeddings=vectors, model_sha256=np.array(model_sha))
    tmp.replace(out)
    progress_path.unlink()
    return EmbedSummary(
        out, len(todo) - len(errors), len(files) - len(todo), errors, vectors.shape[1] if wanted else 0
    )


def _require_same_model(path: Path, made_by: str, model_sha: str) -> None:
    if made_by != model_sha:
        raise ConfigError(
            f"{path} holds embeddings of another model; pass a new output file, or the same model to go on "
            "with it"
        )


def load_index(index_path: str | Path, model_path: str | Path) -> Embeddings:
    """Embeddings an earlier :func:`embed_to_npz` wrote, checked to be of the model at ``model_path``, to
    search without embedding the catalogue again.

    Raises
    ------
    FileProblem
        When the file cannot be read as an embeddings file.
    ConfigError
        When another model (or a version that did not name its model) made it.
    """
    from .collection import content_hash

    path = Path(index_path)
    embeddings, made_by = _read_embeddings(path)
    if made_by != content_hash(model_path):
        raise ConfigError(
            f"{path} holds embeddings of another model (or names none): embed the recordings again with "
            f"{model_path}"
        )
    return embeddings


def _read_embeddings(path: Path) -> tuple[Embeddings, str]:
    """The embeddings in a file :func:`embed_to_npz` wrote, and the SHA-256 of the model that made them
    (empty when a version that did not name it wrote the file).

    Raises
    ------
    FileProblem
        When the file cannot be read as an embeddings file, or its arrays do not fit together.
    """
    try:
        with np.load(path) as stored:
            made_by = str(stored["model_sha256"]) if "model_sha256" in stored else ""
            paths, vectors = [str(p) for p in stored["paths"]], np.asarray(stored["embeddings"], np.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise FileProblem(path, f"not an embeddings file written by 'sonicprint embed' ({exc})") from exc
    if vectors.ndim != 2 or vectors.shape[0] != len(paths):
        raise FileProblem(
            path, f"damaged embeddings file: {len(paths)} paths but embeddings of shape {vectors.shape}"
        )
    return Embeddings(paths, vectors), made_by


def find_similar(
    model_path: str | Path,
    query: str | Path,
    files: Sequence[str | Path],
    *,
    top_n: int = 10,
    index: str | Path | None = None,
    workers: int = 1,
) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """The ``top_n`` files that sound most like ``query`` to the model (cosine similarity of embeddings),
    best first, and the files that could not be read. ``index``: embeddings :func:`embed_to_npz` wrote with
    this model, searched as they are beside ``files`` (so a catalogue is embedded once, not per query). The
    query itself is left out where ``files`` or the index name it too (a query from the searched folder).
    ``workers``: processes sharing the files (0: one per core; 1: this process).

    Raises
    ------
    FileProblem
        When the query itself, or the index, cannot be read.
    """
    predictor = Predictor(model_path)
    target = predictor.embed(query)
    indexed = load_index(index, model_path) if index is not None else None
    return _rank_by_similarity(predictor, target, files, top_n, indexed, exclude=query, workers=workers)


#: how ``similar --maker`` can rank recordings
MAKER_RANKINGS = ("similarity", "probability")


def find_like_maker(
    model_path: str | Path,
    maker: str,
    files: Sequence[str | Path],
    *,
    top_n: int = 10,
    rank_by: str = "similarity",
    index: str | Path | None = None,
    workers: int = 1,
) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """The ``top_n`` files that sound most like ``maker`` to the model, best first, and the files that
    could not be read. ``rank_by="similarity"``: cosine similarity of each file's embedding to the maker's
    centroid (:meth:`Predictor.maker_centroid`), which also finds other makers who sound alike;
    ``"probability"``: the model's probability that ``maker`` made the file, the better way to find a
    maker's own recordings. ``index``: as for :func:`find_similar` (``similarity`` only: probabilities need
    the audio). ``workers``: processes sharing the files (0: one per core; 1: this process).

    Raises
    ------
    ConfigError
        When the model does not know ``maker``, holds no maker centroids (``similarity``), ``rank_by`` is
        unknown, or an index is given to rank by probability.
    """
    if rank_by not in MAKER_RANKINGS:
        raise ConfigError(f"unknown ranking {rank_by!r}; known: {', '.join(MAKER_RANKINGS)}")
    if index is not None and rank_by != "similarity":
        raise ConfigError("an index holds embeddings, not probabilities: rank by similarity, or search files")
    predictor = Predictor(model_path)
    if rank_by == "similarity":
        indexed = load_index(index, model_path) if index is not None else None
        target = predictor.maker_centroid(maker)
        return _rank_by_similarity(predictor, target, files, top_n, indexed, workers=workers)
    predictor.known_maker(maker)
    jobs = _file_jobs(predictor.model_path, files, "predict", workers=workers, top_k=len(predictor.labels))
    paths, scores, errors = [], [], []
    for job, outcome in _in_order(predictor, jobs, workers=workers):  # so that ties keep the files' order
        result = _as_prediction(job.path, outcome)
        if result.error is not None:
            errors.append((job.path, result.error))
        else:
            paths.append(job.path)
            scores.append(dict(result.top)[maker])
    return _best(paths, np.asarray(scores, dtype=float), top_n), errors


def _rank_by_similarity(
    predictor: Predictor,
    target: np.ndarray,
    files: Sequence[str | Path],
    top_n: int,
    index: Embeddings | None = None,
    *,
    exclude: str | Path | None = None,
    workers: int = 1,
) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """Files (embedded now) and index entries (as stored) ranked by cosine similarity to ``target``; a
    file the index holds too is embedded now, and ``exclude`` (the query) is left out."""
    left_out = {Path(f).resolve() for f in files} | ({Path(exclude).resolve()} if exclude else set())
    files = [f for f in files if exclude is None or Path(f).resolve() != Path(exclude).resolve()]
    found = (
        _embed_all(predictor, files, workers=workers)
        if files
        else Embeddings([], np.zeros((0, target.shape[0])))
    )
    paths, vectors = list(found.paths), found.vectors
    if index is not None:
        keep = [i for i, p in enumerate(index.paths) if Path(p).resolve() not in left_out]
        if keep and index.vectors.shape[1] != target.shape[0]:  # load_index checked it is 2-d
            raise ConfigError(f"the index's embeddings do not have the model's {target.shape[0]} dimensions")
        paths += [index.paths[i] for i in keep]
        vectors = np.concatenate([vectors.reshape(-1, target.shape[0]), index.vectors[keep]])
    return Embeddings(paths, vectors).most_similar(target, top_n=top_n), found.errors


def _best(paths: Sequence[str], scores: np.ndarray, top_n: int) -> list[tuple[str, float]]:
    """The ``top_n`` (path, score) pairs, highest score first (ties keep the input order)."""
    order = np.argsort(-scores, kind="stable")[:top_n]
    return [(paths[i], float(scores[i])) for i in order]


@dataclass(frozen=True)
class FileJob:
    """One file for a worker: predict its maker (``task`` "predict") or embed it ("embed"). ``path`` names
    the file in results; ``read_from`` is where it is read (absolute for a worker process, whose working
    folder may differ)."""

    model_path: str
    task: str
    path: str
    read_from: str
    top_k: int = 3
    unknown_below: float = 0.0


def _file_jobs(
    model_path: str | Path, files: Sequence[str | Path], task: str, *, workers: int, **options: Any
) -> list[FileJob]:
    import os

    def where(path: str | Path) -> str:
        return str(path) if workers == 1 else os.path.abspath(path)

    model = where(model_path)
    return [FileJob(model, task, str(f), where(f), **options) for f in files]


#: each worker process's loaded models, so that a batch loads a model once per worker, not per file
_WORKER_PREDICTORS: dict[str, Predictor] = {}


def _file_job(predictor: Predictor, job: FileJob) -> FilePrediction | np.ndarray:
    def as_named(problem: str) -> str:  # a decoder's message names the file as it was read
        return problem.replace(job.read_from, job.path)

    if job.task == "embed":
        try:
            return predictor.embed(job.read_from)
        except FileProblem as exc:
            raise FileProblem(job.path, as_named(exc.problem)) from None
    result = predictor.predict(job.read_from, top_k=job.top_k, unknown_below=job.unknown_below, name=job.path)
    if result.error:
        result.error = as_named(result.error)
    return result


def run_file_job(job: FileJob) -> FilePrediction | np.ndarray:
    """Worker: a :class:`FilePrediction` of ``job.path``, or its embedding (a FileProblem when unreadable)."""
    predictor = _WORKER_PREDICTORS.get(job.model_path)
    if predictor is None:
        predictor = _WORKER_PREDICTORS[job.model_path] = Predictor(job.model_path)
    return _file_job(predictor, job)


def _run_files(
    predictor: Predictor, jobs: Sequence[FileJob], *, workers: int
) -> Iterator[tuple[int, FilePrediction | np.ndarray | BaseException]]:
    """``(index, outcome)`` of each job as it finishes: in this process with ``predictor`` when
    ``workers`` is 1, else on that many worker processes (0: one per core), each loading the model once."""
    from .executors import create_executor

    if workers == 1 or len(jobs) <= 1:
        for index, job in enumerate(jobs):
            try:
                yield index, _file_job(predictor, job)
            except Exception as exc:  # one file's failure never stops the batch
                yield index, exc
        return
    yield from create_executor("process", workers=workers).map_unordered(run_file_job, jobs)


def _in_order(
    predictor: Predictor, jobs: Sequence[FileJob], *, workers: int
) -> Iterator[tuple[FileJob, FilePrediction | np.ndarray | BaseException]]:
    """:func:`_run_files` in the order of ``jobs``: each outcome once it and those before it are done."""
    waiting: dict[int, FilePrediction | np.ndarray | BaseException] = {}  # done ahead of a job before them
    following = 0
    for index, outcome in _run_files(predictor, jobs, workers=workers):
        waiting[index] = outcome
        while following in waiting:
            yield jobs[following], waiting.pop(following)
            following += 1


def _problem(exc: BaseException) -> str:
    """What to say about a file whose job raised ``exc``."""
    return exc.problem if isinstance(exc, FileProblem) else f"{type(exc).__name__}: {exc}"


def _as_prediction(path: str, outcome: FilePrediction | np.ndarray | BaseException) -> FilePrediction:
    if isinstance(outcome, BaseException):  # not a file problem (those come back as FilePrediction.error)
        return FilePrediction(path, error=_problem(outcome))
    assert isinstance(outcome, FilePrediction)
    return outcome


def iter_predictions(
    model_path: str | Path,
    files: Sequence[str | Path],
    *,
    top_k: int = 3,
    unknown_below: float = 0.0,
    workers: int = 1,
) -> Iterator[FilePrediction]:
    """:func:`predict_files`, each verdict yielded as soon as it and those before it are done (in the
    order of ``files``), so that a long batch shows its answers as it goes."""
    predictor = Predictor(model_path)
    jobs = _file_jobs(model_path, files, "predict", workers=workers, top_k=top_k, unknown_below=unknown_below)
    for job, outcome in _in_order(predictor, jobs, workers=workers):
        yield _as_prediction(job.path, outcome)


def predict_files(
    model_path: str | Path,
    files: Sequence[str | Path],
    *,
    top_k: int = 3,
    unknown_below: float = 0.0,
    workers: int = 1,
) -> list[FilePrediction]:
    """Predict the maker of each file, in order. A file that cannot be read gets an error; the others go
    on.

    ``unknown_below``: when the best probability is below it, the verdict is ``"unknown"``. ``workers``:
    processes sharing the files (0: one per core; 1: this process). The verdicts do not depend on it.
    """
    return list(
        iter_predictions(model_path, files, top_k=top_k, unknown_below=unknown_below, workers=workers)
    )


#: the columns of a batch's results file, one row per file
RESULT_COLUMNS = ("path", "verdict", "probability", "top", "error", "seconds")


@dataclass
class BatchSummary:
    """What :func:`predict_to_csv` did: files predicted in this run (``unknown`` and ``errors`` among
    them) and files skipped because the results file already held them."""

    out: Path
    predicted: int
    unknown: int
    errors: int
    skipped: int


def _result_row(result: FilePrediction) -> list[str]:
    top = ";".join(f"{label}:{p:.4f}" for label, p in result.top)
    best = f"{result.top[0][1]:.4f}" if result.top else ""
    return [result.path, result.verdict, best, top, result.error or "", f"{result.seconds:.3f}"]


def _whole_lines(path: Path, *, errors: str = "strict") -> str:
    """The text of a file appended to line by line, without a last line an interruption cut short (that
    line is dropped from the file too, so what is appended next starts on a line of its own)."""
    text = path.read_text(encoding="utf-8", errors=errors)
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        path.write_text(text, encoding="utf-8")
    return text


def _done_paths(out: Path) -> set[str]:
    """Paths already in a results file. A last line cut short by an interruption is dropped from the
    file, so its file is predicted again."""
    import csv

    if not out.exists() or out.stat().st_size == 0:
        return set()
    rows = list(csv.reader(_whole_lines(out, errors="replace").splitlines()))
    if not rows or tuple(rows[0]) != RESULT_COLUMNS:
        raise FileProblem(
            out, f"exists but is not a results file (expected the columns {', '.join(RESULT_COLUMNS)})"
        )
    return {row[0] for row in rows[1:] if len(row) == len(RESULT_COLUMNS)}


def predict_to_csv(
    model_path: str | Path,
    files: Sequence[str | Path],
    out_csv: str | Path,
    *,
    top_k: int = 3,
    unknown_below: float = 0.0,
    workers: int = 1,
    progress: bool = False,
) -> BatchSummary:
    """Predict each file and append its row to ``out_csv`` as soon as it is done (columns
    :data:`RESULT_COLUMNS`; ``top`` is ``label:probability`` pairs joined by ``;``). A file that cannot be
    read gets its error in the row and the others go on. ``workers``: processes sharing the files (0: one
    per core; 1: this process); rows are written in the order files finish.

    Resumable: files already in ``out_csv`` are skipped, so running the same command again after an
    interruption goes on where it stopped. The settings are saved beside it (``<out>.json``: model and its
    SHA-256, ``top_k``, ``unknown_below``, labels, version); a rerun with other settings is refused rather
    than mixing two kinds of rows in one file.

    Raises
    ------
    ConfigError
        When ``out_csv`` was started with another model or other settings.
    FileProblem
        When ``out_csv`` exists but is not a results file.
    """
    import csv
    import json

    from tqdm import tqdm

    from . import __version__
    from .collection import content_hash

    out = Path(out_csv)
    settings_path = out.with_name(out.name + ".json")
    predictor = Predictor(model_path)
    settings = {
        "model": str(model_path),
        "model_sha256": content_hash(model_path),
        "top_k": top_k,
        "unknown_below": unknown_below,
        "labels": predictor.labels,
        "sonicprint": __version__,
    }
    done = _done_paths(out)
    if settings_path.exists():
        before = json.loads(settings_path.read_text(encoding="utf-8"))
        changed = [k for k in ("model_sha256", "top_k", "unknown_below") if before.get(k) != settings[k]]
        if changed and done:
            raise ConfigError(
                f"{out} was started with other settings ({', '.join(changed)} differ; see {settings_path}); "
                "pass a new output file, or the same settings to resume it"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    todo = [f for f in files if str(f) not in done]
    summary = BatchSummary(out, 0, 0, 0, len(files) - len(todo))
    with out.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if not done:
            handle.truncate(0)
            writer.writerow(RESULT_COLUMNS)
        jobs = _file_jobs(
            model_path, todo, "predict", workers=workers, top_k=top_k, unknown_below=unknown_below
        )
        bar = tqdm(total=len(jobs), desc="predict", unit="file", disable=not progress)
        for index, outcome in _run_files(predictor, jobs, workers=workers):
            result = _as_prediction(jobs[index].path, outcome)
            bar.update(1)
            writer.writerow(_result_row(result))
            handle.flush()  # each row reaches the file before the next starts: an interruption loses one
            summary.predicted += 1
            summary.errors += result.error is not None
            summary.unknown += result.verdict == UNKNOWN
        bar.close()
    return summary


def _temperature(loaded: object) -> float | None:
    """The temperature a model was calibrated with when trained (``--calibrate``), or None."""
    temperature = (getattr(loaded, "meta", {}).get("extra") or {}).get("temperature")
    return None if temperature is None else float(temperature)


def _calibrated(loaded: object, proba: np.ndarray) -> np.ndarray:
    """``proba`` scaled by the model's temperature, as its held-out tracks were when it was trained."""
    from .models import apply_temperature

    temperature = _temperature(loaded)
    return proba if temperature is None else apply_temperature(proba, temperature)


def _analyse(loaded: object, path: str | Path, *, embed: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Class probabilities of one file and, with ``embed``, the model's embedding of it (the mean over
    its clips or windows where the model works on them)."""
    from .deep.serialize import LoadedNetwork

    duration_s = probe_audio(path).duration_s
    if duration_s < MIN_DURATION_S:
        raise AudioTooShortError(
            path, f"too short: {duration_s:.2f} s of audio, at least {MIN_DURATION_S:g} s needed to attribute"
        )
    if isinstance(loaded, LoadedNetwork):
        from .deep.train import ClipSet, predict_clips, track_log_probs
        from .pipeline import decode_windows

        trained = loaded.trained
        segments = decode_windows(path, loaded.audio, duration_s)
        require_sound(path, segments)
        clip_n = int(trained.config.clip_s * trained.sample_rate)
        clips = ClipSet.cut(
            [segments], [0], clip_samples=clip_n, hop_samples=int(trained.config.hop_s * trained.sample_rate)
        )
        log_probs, clip_embeddings = predict_clips(trained, clips, embeddings=embed)
        proba = _calibrated(loaded, np.exp(track_log_probs(log_probs, clips.clip_track, 1)[0]))
        return proba, (clip_embeddings.mean(axis=0) if clip_embeddings is not None else None)
    from .models import embed_tracks, predict_tracks

    per_window = loaded.per_window  # type: ignore[attr-defined]
    features = compute_feature_sets(
        path,
        loaded.feature_configs,  # type: ignore[attr-defined]
        per_window=per_window,
        duration_s=duration_s,
        reject_silence=True,
    )[np.newaxis]
    proba = predict_tracks(loaded.model, features, per_window=per_window)[0]  # type: ignore[attr-defined]
    proba = _calibrated(loaded, proba)
    embedding = embed_tracks(loaded.model, features, per_window=per_window)[0] if embed else None  # type: ignore[attr-defined]
    return proba, embedding
