from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import threading

import numpy as np
import pytest

from sonicprint.cli import main
from sonicprint.errors import ConfigError, FileProblem, ModelFormatError, SonicprintError
from sonicprint.predict import Predictor, embed_to_npz, find_like_maker
from sonicprint.web import make_server


@pytest.fixture
def server(trained, request):  # type: ignore[no-untyped-def]
    limit = getattr(request, "param", 64.0)
    srv = make_server(trained[0], port=0, max_upload_mb=limit, log=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def catalogue(trained, tmp_path):  # type: ignore[no-untyped-def]
    """The query's folder embedded by the trained model (``sonicprint embed``): its files and index."""
    model, query = trained
    files = sorted(str(p) for p in query.parent.iterdir())
    index = tmp_path / "catalogue.npz"
    embed_to_npz(model, files, index)
    return files, index


@pytest.fixture
def indexed_server(trained, catalogue):  # type: ignore[no-untyped-def]
    srv = make_server(trained[0], port=0, log=False, index=catalogue[1])
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(srv, method: str, url: str, body: bytes | None = None):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection(*srv.server_address[:2], timeout=60)
    connection.request(method, url, body=body)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), payload


def test_the_page_and_the_model_description(server, trained):
    status, kind, html = request(server, "GET", "/")
    assert status == 200 and kind.startswith("text/html")
    assert b"<title>Sonicprint</title>" in html and b"api/predict" in html
    status, _, payload = request(server, "GET", "/api/model")
    described = json.loads(payload)
    assert status == 200 and described["kind"] == "feature model" and described["name"] == "logreg"
    assert described["labels"] == Predictor(trained[0]).labels and described["index"] is None
    metrics = json.loads(
        (trained[0].parent / "metrics.json").read_text(encoding="utf-8")
    )  # the run that saved it
    assert described["evaluated"]["accuracy"] == metrics["accuracy"]
    assert described["evaluated"]["evaluation"] == metrics["evaluation"]
    assert b"In the run that saved it" in html  # the page says it


def test_an_upload_gets_the_same_verdict_as_the_file_on_disk(server, trained):
    model, query = trained
    status, _, payload = request(
        server, "POST", f"/api/predict?name={query.name}&top_k=2", body=query.read_bytes()
    )
    answer = json.loads(payload)
    direct = Predictor(model).predict(query, top_k=2)
    assert status == 200 and answer["error"] is None and answer["path"] == query.name
    assert answer["verdict"] == direct.verdict
    assert [t["label"] for t in answer["top"]] == [lab for lab, _ in direct.top]
    assert [t["probability"] for t in answer["top"]] == pytest.approx([p for _, p in direct.top], abs=1e-4)


def test_with_an_index_a_verdict_lists_the_recordings_that_sound_most_like_the_upload(
    indexed_server, trained, catalogue
):
    model, query = trained
    files, index = catalogue
    described = json.loads(request(indexed_server, "GET", "/api/model")[2])
    assert described["index"] == {"path": str(index), "recordings": len(files)}
    status, _, payload = request(
        indexed_server, "POST", f"/api/predict?name={query.name}&similar=1", body=query.read_bytes()
    )
    answer = json.loads(payload)
    assert status == 200 and answer["verdict"] == Predictor(model).predict(query).verdict
    # the upload is a copy of an indexed recording: that recording is the one it sounds most like
    assert [s["path"] for s in answer["similar"]] == [str(query)]
    assert answer["similar"][0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    status, _, payload = request(indexed_server, "POST", "/api/predict?name=q.wav", body=query.read_bytes())
    listed = json.loads(payload)["similar"]
    assert len(listed) == min(len(files), 5)
    assert [s["similarity"] for s in listed] == sorted((s["similarity"] for s in listed), reverse=True)
    status, _, payload = request(
        indexed_server, "POST", "/api/predict?name=q.wav&similar=0", body=query.read_bytes()
    )
    assert status == 200 and json.loads(payload)["similar"] == []


def test_with_an_index_the_page_finds_the_recordings_most_like_a_maker(indexed_server, trained, catalogue):
    model = trained[0]
    index = catalogue[1]
    status, _, payload = request(indexed_server, "GET", "/api/similar?maker=Producer%20A&top=3")
    answer = json.loads(payload)
    expected, _ = find_like_maker(model, "Producer A", [], top_n=3, index=index)
    assert status == 200 and answer["maker"] == "Producer A"
    assert [(s["path"], s["similarity"]) for s in answer["similar"]] == [
        (p, round(v, 4)) for p, v in expected
    ]
    status, _, payload = request(indexed_server, "GET", "/api/similar?maker=Nobody")
    assert status == 400
    assert re.search("knows no maker 'Nobody'; it knows: Producer A", json.loads(payload)["error"])
    status, _, payload = request(indexed_server, "GET", "/api/similar?maker=Producer%20A&top=0")
    assert status == 400 and "top must be at least 1" in json.loads(payload)["error"]


def test_without_an_index_there_is_nothing_to_search(server):
    status, _, payload = request(server, "GET", "/api/similar?maker=Producer%20A")
    assert status == 404 and "--index" in json.loads(payload)["error"]


def test_an_index_of_another_model_or_a_damaged_one_is_refused_before_any_port_is_opened(
    trained, catalogue, tmp_path, capsys
):
    model = trained[0]
    files = catalogue[0]
    other = tmp_path / "other.npz"
    np.savez(other, paths=np.array(files), embeddings=np.zeros((len(files), 3)), model_sha256="x")
    with pytest.raises(ConfigError, match=r"other\.npz holds embeddings of another model"):
        make_server(model, port=0, index=other)
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"not an npz")
    with pytest.raises(FileProblem, match=r"damaged\.npz: not an embeddings file"):
        make_server(model, port=0, index=damaged)
    assert main(["serve", str(model), "--port", "0", "--index", str(damaged)]) == 2
    assert "damaged.npz: not an embeddings file" in capsys.readouterr().err


def test_unknown_below_turns_an_unsure_verdict_into_unknown(server, trained):
    query = trained[1]
    status, _, payload = request(
        server, "POST", f"/api/predict?name={query.name}&unknown_below=1", body=query.read_bytes()
    )
    answer = json.loads(payload)
    assert status == 200 and answer["verdict"] == "unknown" and answer["top"][0]["probability"] < 1


def test_a_file_that_is_not_audio_names_the_upload_and_the_problem(server):
    status, _, payload = request(server, "POST", "/api/predict?name=notes.txt", body=b"not audio at all" * 64)
    answer = json.loads(payload)
    assert status == 422 and answer["path"] == "notes.txt" and answer["verdict"] == ""
    assert answer["error"] and "sonicprint-upload" not in answer["error"]


def test_the_server_goes_on_after_a_bad_upload(server, trained):
    request(server, "POST", "/api/predict?name=bad.wav", body=b"RIFF\x00\x00")
    status, _, payload = request(server, "POST", "/api/predict?name=ok.wav", body=trained[1].read_bytes())
    assert status == 200 and json.loads(payload)["verdict"]


@pytest.mark.parametrize(
    ("url", "body", "expected_status", "message"),
    [
        ("/api/predict?name=a.wav", b"", 400, r"a\.wav: empty upload"),
        ("/api/predict?name=a.wav&top_k=two", b"x", 400, "top_k must be an integer"),
        ("/api/predict?name=a.wav&top_k=0", b"x", 400, "top_k must be at least 1"),
        ("/api/predict?name=a.wav&similar=-1", b"x", 400, "similar must be at least 0"),
        ("/api/predict?name=a.wav&unknown_below=2", b"x", 400, r"unknown_below must be in \[0, 1\]"),
        ("/api/predict?name=../../etc/passwd", b"", 400, "^passwd: empty upload"),
        ("/api/elsewhere", b"x", 404, "no page at /api/elsewhere"),
    ],
)
def test_bad_requests_get_a_clear_error(server, url, body, expected_status, message):
    status, kind, payload = request(server, "POST", url, body=body)
    assert status == expected_status and kind == "application/json"
    assert re.search(message, json.loads(payload)["error"])


@pytest.mark.parametrize("server", [0.01], indirect=True)
def test_an_upload_over_the_limit_is_refused_without_reading_it(server, trained):
    status, _, payload = request(server, "POST", "/api/predict?name=big.wav", body=b"\x00" * 20_000)
    assert status == 413
    assert json.loads(payload)["error"] == "big.wav: 19.5 kB is over the upload limit of 10.2 kB"


def test_a_missing_model_is_an_error_before_any_port_is_opened(tmp_path, capsys):
    with pytest.raises(ModelFormatError, match="model file not found"):
        make_server(tmp_path / "none.pt", port=0)
    assert main(["serve", str(tmp_path / "none.pt"), "--port", "0"]) == 2
    assert "none.pt: model file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 70000}, r"port must be in 0-65535 \(0: any free one\), got 70000"),
        ({"port": -1}, "got -1"),
        ({"max_upload_mb": 0.0}, "max_upload_mb must be positive"),
    ],
)
def test_impossible_server_settings_are_refused_before_the_model_is_loaded(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        make_server(tmp_path / "none.pt", **options)  # no model there: the settings are checked first


def test_a_port_in_use_is_a_clear_error(server, trained):
    with pytest.raises(SonicprintError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
        make_server(trained[0], port=server.server_address[1])


def test_an_upload_cut_short_is_an_error_naming_the_file(server):
    with socket.create_connection(server.server_address[:2], timeout=30) as sock:
        head = b"POST /api/predict?name=cut.wav HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
        sock.sendall(head + b"RIFF" * 10)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line, _, body = reply.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.0 400") or status_line.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["error"] == "cut.wav: upload ended after 40 of 5000 bytes"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse the page's script")
def test_the_pages_script_parses(tmp_path):
    """The page's JavaScript is not run by any other test: a syntax error would only show in a browser."""
    from sonicprint.web import page

    scripts = re.findall(r"<script>(.*?)</script>", page().decode("utf-8"), re.S)
    assert scripts
    (tmp_path / "page.js").write_text("\n".join(scripts), encoding="utf-8")
    done = subprocess.run(["node", "--check", str(tmp_path / "page.js")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
