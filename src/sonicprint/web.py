"""A local web page for a saved model: drop recordings on it, read who made them.

The page and a small JSON API are served by the standard library's HTTP server, so nothing beyond
Sonicprint itself is needed. Uploads are written to a temporary file, decoded like any other file (the
decoder chain, the same errors), and deleted after the verdict.

API
---
``GET /api/model``
    What the model is: ``{"model", "kind", "name", "labels", "background", "decides", "index"}``;
    ``index`` is ``{"path", "recordings"}`` when the page was started with an index of embeddings
    (``serve --index``), else null.
``POST /api/predict?name=FILE&top_k=3&unknown_below=0.0&similar=5``
    The request body is the file's bytes. Answers the verdict as ``FilePrediction.as_dict()``: status 200,
    or 422 with ``error`` set when the file cannot be read as audio; 400 for an empty or cut-short upload
    or a bad parameter, 411 without a Content-Length, 413 for an upload over the size limit (refused
    before it is read). Every error message starts with the file's name. With an index, the answer also
    has ``similar``: the ``similar`` indexed recordings that sound most like the upload to the model, as
    ``[{"path", "similarity"}]`` (cosine similarity of embeddings, from the same analysis as the verdict).
``GET /api/similar?maker=NAME&top=10``
    With an index: the indexed recordings that sound most like ``maker`` (similarity to the maker's
    direction, as ``similar --maker``), ``{"maker", "similar": [{"path", "similarity"}]}``; 400 for a
    maker the model does not know (the message lists those it knows), 404 without an index.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import ConfigError, SonicprintError
from .predict import Embeddings, Predictor, load_index, run_evaluation

DEFAULT_MAX_UPLOAD_MB = 512.0
#: how many indexed recordings a verdict lists as sounding most like the upload, unless asked otherwise
DEFAULT_SIMILAR = 5
_BLOCK = 1 << 20
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def page() -> bytes:
    """The page's HTML (one file with its style and script; it loads nothing from elsewhere)."""
    return (resources.files("sonicprint") / "page.html").read_bytes()


class PredictionServer(ThreadingHTTPServer):
    """An HTTP server holding one loaded model; requests are answered one verdict at a time."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        predictor: Predictor,
        *,
        max_upload_bytes: int,
        log: bool = True,
        index: Embeddings | None = None,
        index_path: str | Path | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        self.predictor = predictor
        #: recordings embedded by the same model (``serve --index``), searched for "sounds like"
        self.index = index
        self.index_path = None if index_path is None else str(index_path)
        self.max_upload_bytes = max_upload_bytes
        self.log = log
        # One model, one verdict at a time: bounded memory however many browser tabs upload at once
        self.predict_lock = threading.Lock()
        trained = predictor.describe()["trained"]
        assert isinstance(trained, dict)
        #: how well the model did in the run that saved it (read once: the page shows it to every visitor)
        self.evaluated = run_evaluation(predictor.model_path, trained.get("data_hash"))

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        shown = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
        return f"http://{shown}:{port}/"

    def describe(self) -> dict[str, Any]:
        """The model's description (:meth:`Predictor.describe`), its run's cross-validated figures
        (:func:`run_evaluation`) and the index the page searches, if any."""
        index = None
        if self.index is not None:
            index = {"path": self.index_path, "recordings": len(self.index.paths)}
        return {**self.predictor.describe(), "evaluated": self.evaluated, "index": index}


def make_server(
    model_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    log: bool = True,
    index: str | Path | None = None,
) -> PredictionServer:
    """Load the model and bind the server (``port=0`` picks a free port); call ``serve_forever()`` on it.
    ``index``: embeddings ``sonicprint embed`` wrote with this model; each verdict then lists the indexed
    recordings that sound most like the upload, and the page can list those most like a maker.

    Raises
    ------
    ModelFormatError
        When the model file is missing, damaged or not a Sonicprint model.
    FileProblem
        When the index cannot be read as an embeddings file.
    ConfigError
        When another model made the index.
    SonicprintError
        When the address cannot be listened on (a port in use, say).
    ValueError
        When ``max_upload_mb`` is not positive, or ``port`` is not one (0 to 65535).
    """
    if not max_upload_mb > 0:
        raise ValueError(f"max_upload_mb must be positive, got {max_upload_mb}")
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be in 0-65535 (0: any free one), got {port}")
    predictor = Predictor(model_path)
    embeddings = load_index(index, model_path) if index is not None else None
    try:
        return PredictionServer(
            (host, port),
            predictor,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            log=log,
            index=embeddings,
            index_path=index,
        )
    except OSError as exc:
        raise SonicprintError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc


def serve(server: PredictionServer) -> None:
    """Serve the page of a server made by :func:`make_server` until interrupted (Ctrl-C), then close it."""
    searched = f", searching {len(server.index.paths)} recordings" if server.index is not None else ""
    print(
        f"Sonicprint page for {server.predictor.model_path}{searched}: {server.url}  (Ctrl-C stops it)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    server: PredictionServer
    server_version = "Sonicprint"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        route = parts.path
        if route in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page(), "text/html; charset=utf-8")
        elif route == "/api/model":
            self._send_json(HTTPStatus.OK, self.server.describe())
        elif route == "/api/similar":
            try:
                self._send_json(HTTPStatus.OK, self._like_maker(parse_qs(parts.query)))
            except _BadRequest as exc:
                self._send_json(exc.status, {"error": str(exc)})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no page at {route}"})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/api/predict":
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no page at {parts.path}"})
            return
        try:
            name, top_k, unknown_below, n_similar = _predict_parameters(parse_qs(parts.query))
            length = self._upload_length(name)
        except _BadRequest as exc:
            self.close_connection = True
            self._send_json(exc.status, {"error": str(exc)})
            return
        suffix = Path(name).suffix if _SAFE_SUFFIX.match(Path(name).suffix) else ""
        with tempfile.TemporaryDirectory(prefix="sonicprint-upload-") as folder:
            upload = Path(folder) / f"upload{suffix}"
            try:
                self._save_upload(name, length, upload)
            except _BadRequest as exc:
                self.close_connection = True
                self._send_json(exc.status, {"error": str(exc)})
                return
            index = self.server.index
            with self.server.predict_lock:
                result = self.server.predictor.predict(
                    upload,
                    top_k=top_k,
                    unknown_below=unknown_below,
                    name=name,
                    embed=index is not None and n_similar > 0,
                )
        if result.error:
            # The decoder names the temporary file; the person knows the file by its own name
            result.error = result.error.replace(str(upload), name)
        status = HTTPStatus.UNPROCESSABLE_ENTITY if result.error else HTTPStatus.OK
        answer: dict[str, Any] = result.as_dict()
        if index is not None:
            found = [] if result.embedding is None else index.most_similar(result.embedding, top_n=n_similar)
            answer["similar"] = _ranked(found)
        self._send_json(status, answer)

    def _like_maker(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """The indexed recordings most like a maker (``GET /api/similar``)."""
        if self.server.index is None:
            raise _BadRequest(
                HTTPStatus.NOT_FOUND, "no index to search: start the page with --index EMBEDDINGS.npz"
            )
        maker = (query.get("maker") or [""])[0]
        top = _int_parameter(query, "top", 10, who="similar")
        try:
            direction = self.server.predictor.maker_centroid(maker)
        except ConfigError as exc:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, str(exc)) from None
        return {"maker": maker, "similar": _ranked(self.server.index.most_similar(direction, top_n=top))}

    def _upload_length(self, name: str) -> int:
        """The declared size of the upload, checked against emptiness and the limit before reading it."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise _BadRequest(HTTPStatus.LENGTH_REQUIRED, f"{name}: the upload has no Content-Length")
        try:
            length = int(length_header)
        except ValueError:
            message = f"{name}: bad Content-Length {length_header!r}"
            raise _BadRequest(HTTPStatus.BAD_REQUEST, message) from None
        if length <= 0:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, f"{name}: empty upload (0 bytes)")
        limit = self.server.max_upload_bytes
        if length > limit:
            raise _BadRequest(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"{name}: {_size(length)} is over the upload limit of {_size(limit)}",
            )
        return length

    def _save_upload(self, name: str, length: int, target: Path) -> None:
        """Copy the request body to ``target`` in blocks, so a large upload never sits in memory whole."""
        received = 0
        with target.open("wb") as out:
            while received < length:
                block = self.rfile.read(min(_BLOCK, length - received))
                if not block:
                    message = f"{name}: upload ended after {received} of {length} bytes"
                    raise _BadRequest(HTTPStatus.BAD_REQUEST, message)
                out.write(block)
                received += len(block)

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log:
            super().log_message(format, *args)


def _size(n_bytes: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"


def _ranked(found: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"path": path, "similarity": round(score, 4)} for path, score in found]


def _int_parameter(query: dict[str, list[str]], key: str, default: int, *, who: str, least: int = 1) -> int:
    """The integer ``key`` of a query string (``default`` when absent), checked to be at least ``least``."""
    raw = (query.get(key) or [str(default)])[0]
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(HTTPStatus.BAD_REQUEST, f"{who}: {key} must be an integer, got {raw!r}") from None
    if value < least:
        raise _BadRequest(HTTPStatus.BAD_REQUEST, f"{who}: {key} must be at least {least}, got {value}")
    return value


def _predict_parameters(query: dict[str, list[str]]) -> tuple[str, int, float, int]:
    """``name``, ``top_k``, ``unknown_below`` and ``similar`` from a predict request's query string,
    checked."""
    name = (query.get("name") or ["upload"])[0].strip() or "upload"
    name = Path(name.replace("\\", "/")).name or "upload"  # a file name, never a path on this machine
    top_k = _int_parameter(query, "top_k", 3, who=name)
    n_similar = _int_parameter(query, "similar", DEFAULT_SIMILAR, who=name, least=0)
    raw = (query.get("unknown_below") or ["0"])[0]
    try:
        unknown_below = float(raw)
    except ValueError:
        message = f"{name}: unknown_below must be a number, got {raw!r}"
        raise _BadRequest(HTTPStatus.BAD_REQUEST, message) from None
    if not 0.0 <= unknown_below <= 1.0:
        message = f"{name}: unknown_below must be in [0, 1], got {unknown_below}"
        raise _BadRequest(HTTPStatus.BAD_REQUEST, message)
    return name, top_k, unknown_below, n_similar
