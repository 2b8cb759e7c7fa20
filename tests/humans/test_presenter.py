"""`vidlens humans speak`: a presenter video that is labelled, watermarked, traceable and tied to consent;
and every bad input refused with a clear error and nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.humans.conftest import consent_file
from tests.humans.test_registry_cli import cli
from vidlens.hashing import sha256_bytes
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe

pytestmark = pytest.mark.timeout(900)  # each video is rendered for real: minutes on a loaded 2-core machine
SCRIPT = "Good morning. Here is the weather for Monday: sunny, with a light breeze."
SIZE = "256x448"  # small: the tests check what is made, not how sharp


def speak(capsys: pytest.CaptureFixture[str], data: Path, out: Path, *args: str) -> tuple[int, dict | None, str]:
    code, stdout, err = cli(capsys, "humans", "speak", "-o", str(out), "--size", SIZE, "--json",
                            "--data-dir", str(data), *args)
    return code, (json.loads(stdout) if code == 0 else None), err


def nothing_written(folder: Path, out: Path) -> bool:
    """No output and no hidden partial file beside it."""
    return not out.exists() and not [p for p in folder.iterdir() if p.name.startswith(f".{out.stem}")]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, files: dict[str, Path]) -> tuple[Path, Path, dict]:
    """One presenter video from an unregistered portrait, with burned subtitles."""
    import contextlib
    import io

    from vidlens.cli.app import inner_main

    d = tmp_path_factory.mktemp("presenter")
    out = d / "news.mp4"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = inner_main(["humans", "speak", "--portrait", str(files["face_jpg"]), "--text", SCRIPT, "--subtitles",
                           "-o", str(out), "--size", SIZE, "--json", "--data-dir", str(d / "data")])
    assert code == 0
    return d / "data", out, json.loads(buf.getvalue())


def test_presenter_video_is_h264_aac_at_size_with_both_labels(made: tuple[Path, Path, dict]) -> None:
    from vidlens.govern.implicit import read_label

    _, out, doc = made
    video = probe(out)
    codecs = {s.kind: s.codec for s in video.streams}
    assert codecs == {"video": "h264", "audio": "aac"}
    assert (video.width, video.height) == (256, 448)
    assert abs(video.duration_s - doc["duration_s"]) < 0.15
    assert doc["frames"] == pytest.approx(doc["duration_s"] * 25, abs=1)
    # speech of ~14 words: Piper's joe voice speaks 2-4 words a second
    assert 3.0 < doc["duration_s"] < 8.0
    assert doc["explicit_label"]["read_back"] and all(t == "AI生成" for _, t in doc["explicit_label"]["read_back"])
    label = read_label(out).label
    assert label is not None and label.Label == "1" and label.ProduceID == doc["produce_id"]
    assert abs(doc["loudness_after"]["integrated"] - doc["loudness_target"]) < 1.5  # measured 0.9 LU short after AAC
    assert doc["mouth"]["open_max"] > 0.25 and doc["mouth"]["blinks"] >= 1


def test_watermark_resolves_to_the_ledger_entry_naming_script_and_portrait(
        capsys: pytest.CaptureFixture[str], made: tuple[Path, Path, dict], files: dict[str, Path]) -> None:
    data, out, doc = made
    code, stdout, err = cli(capsys, "humans", "trace", str(out), "--json", "--data-dir", str(data))
    assert code == 0, err
    traced = json.loads(stdout)
    assert traced["watermark"]["found"] and traced["watermark"]["payload"] == doc["watermark"]
    entry = traced["entry"]
    assert entry["seq"] == doc["ledger_seq"] and entry["action"] == "speak"
    assert entry["script_sha256"] == sha256_bytes(" ".join(SCRIPT.split()).encode())
    assert entry["human"] is None and entry["consent"] is None
    code, stdout, err = cli(capsys, "humans", "verify", "--json", "--data-dir", str(data))
    assert code == 0 and json.loads(stdout)["ok"], err


def test_the_use_certificate_verifies_offline_and_refuses_an_edit(
        capsys: pytest.CaptureFixture[str], made: tuple[Path, Path, dict], tmp_path: Path) -> None:
    _, _, doc = made
    cert = tmp_path / "news.cert.json"
    cert.write_text(json.dumps(doc["certificate"]))
    code, stdout, err = cli(capsys, "humans", "check", str(cert), "--json")
    assert code == 0, err
    body = json.loads(stdout)["payload"]
    assert body["format"] == "vidlens-human-use-certificate" and body["watermark"] == doc["watermark"]
    assert body["ledger_seq"] == doc["ledger_seq"] and body["script_sha256"] == doc["script_sha256"]
    edited = json.loads(json.dumps(doc["certificate"]))
    edited["payload"]["script_sha256"] = "0" * 64
    cert.write_text(json.dumps(edited))
    code, stdout, err = cli(capsys, "humans", "check", str(cert), "--json")
    assert code != 0 and not stdout and "does not verify" in err


def test_a_video_without_the_mark_traces_to_nothing(capsys: pytest.CaptureFixture[str], person: Path,
                                                    tmp_path: Path) -> None:
    code, stdout, err = cli(capsys, "humans", "trace", str(person), "--json", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    assert json.loads(stdout) == {"watermark": json.loads(stdout)["watermark"], "entry": None}
    assert not json.loads(stdout)["watermark"]["found"]


@pytest.fixture
def registered(capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path) -> Path:
    d = tmp_path / "data"
    consent = consent_file(tmp_path / "consent.json", allowed_uses=["presenter"], territories=["DE"])
    code, _, err = cli(capsys, "humans", "register", "B. Speaker", "--face", str(files["face_jpg"]), "--consent",
                       str(consent), "--data-dir", str(d))
    assert code == 0, err
    return d


def test_registered_human_within_consent_is_named_in_the_ledger_and_found_by_scan(
        capsys: pytest.CaptureFixture[str], registered: Path, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "anchor.mp4"
    code, doc, err = speak(capsys, registered, out, "--human", "B. Speaker", "--portrait", str(files["face_jpg"]),
                           "--territory", "de", "--text", "Welcome to the evening programme.")
    assert code == 0, err
    assert doc["human"]["name"] == "B. Speaker" and doc["consent"]["allowed_uses"] == ["presenter"]
    assert doc["face_similarity"] >= 0.625
    code, stdout, err = cli(capsys, "humans", "trace", str(out), "--json", "--data-dir", str(registered))
    assert code == 0, err
    entry = json.loads(stdout)["entry"]
    assert entry["human_id"] == doc["human"]["id"] and entry["consent"]["territories"] == ["DE"]
    code, stdout, err = cli(capsys, "humans", "scan", str(out), "--use", "presenter", "--territory", "DE", "--json",
                            "--data-dir", str(registered))
    assert code == 0, err
    faces = [m for m in json.loads(stdout)["matches"] if m["kind"] == "face"]
    assert faces and faces[0]["human"] == doc["human"]["id"] and faces[0]["authorised"]


@pytest.mark.parametrize(("args", "message"), [
    (("--territory", "FR"), "territories DE; not FR"),
    ((), "no territory was given"),
    (("--territory", "DE", "--use", "advertising"), "covers presenter, not 'advertising'"),
])
def test_uses_the_consent_does_not_cover_are_refused(capsys: pytest.CaptureFixture[str], registered: Path,
                                                     files: dict[str, Path], tmp_path: Path,
                                                     args: tuple[str, ...], message: str) -> None:
    out = tmp_path / "refused.mp4"
    code, _, err = speak(capsys, registered, out, "--human", "B. Speaker", "--portrait", str(files["face_jpg"]),
                         "--text", "Hello.", *args)
    assert code != 0 and message in err
    assert nothing_written(tmp_path, out)


def test_expired_consent_is_refused(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vidlens.humans.consent as consent_module

    d = tmp_path / "data"
    expires = datetime.now(UTC) + timedelta(hours=1)
    consent = consent_file(tmp_path / "consent.json", allowed_uses=["*"], territories=["*"],
                           expires=expires.isoformat())
    code, _, err = cli(capsys, "humans", "register", "Brief", "--face", str(files["face_jpg"]), "--consent",
                       str(consent), "--data-dir", str(d))
    assert code == 0, err

    class TwoHoursLater(datetime):  # the consent's clock, moved past its expiry (no sleep: load cannot race it)
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # noqa: ANN401 - datetime's own signature
            return datetime.now(tz) + timedelta(hours=2)

    monkeypatch.setattr(consent_module, "datetime", TwoHoursLater)
    out = tmp_path / "late.mp4"
    code, _, err = speak(capsys, d, out, "--human", "Brief", "--portrait", str(files["face_jpg"]), "--text", "Hi.")
    assert code != 0 and "consent expired on" in err
    assert nothing_written(tmp_path, out)


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory, files: dict[str, Path]) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("presenter-bad")
    small = d / "small.png"  # the GRID face is ~100 px; at 0.5x it is under the 64 px a presenter needs
    run_ffmpeg(["-i", str(files["face_jpg"]), "-vf", "scale=iw/2:ih/2", str(small)])
    empty = d / "empty.txt"
    empty.write_text("  \n\t ")
    huge = d / "huge.txt"
    huge.write_text("word " * 210_000)  # 1 MB
    latin1 = d / "latin1.txt"
    latin1.write_bytes("Grüße aus Köln".encode("latin-1"))
    not_image = d / "notes.png"
    not_image.write_text("not a picture")
    return {"small": small, "empty": empty, "huge": huge, "latin1": latin1, "not_image": not_image}


@pytest.mark.parametrize(("portrait", "words", "extra", "message"), [
    ("no_face", ("--text", "Hello."), (), "no face found in the portrait"),
    ("two_faces", ("--text", "Hello."), (), "2 faces in the portrait; choose one with --face-index"),
    ("two_faces", ("--text", "Hello."), ("--face-index", "5"), "--face-index 5 is out of range"),
    ("small", ("--text", "Hello."), (), "a presenter needs at least 64 px"),
    ("not_image", ("--text", "Hello."), (), "not a readable image"),
    ("face_jpg", ("--script", "empty"), (), "the script is empty"),
    ("face_jpg", ("--script", "huge"), (), "at most 65536 are spoken"),
    ("face_jpg", ("--script", "latin1"), (), "not UTF-8"),
    ("face_jpg", ("--text", "?!"), (), "no words to speak"),
    ("face_jpg", ("--text", "Bonjour."), ("--lang", "fr"), "language 'fr' is not supported"),
    ("face_jpg", ("--text", "你好。"), ("--lang", "zh"), "no Piper voice for language 'zh'"),
    ("face_jpg", ("--text", "Hello."), ("--voice", "missing.onnx"), "needs the model and missing.onnx.json"),
    ("face_jpg", ("--text", "Hello."), ("--size", "721x1280"), "must be even"),
])
def test_bad_input_is_refused_with_a_clear_error_and_nothing_written(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], bad: dict[str, Path], tmp_path: Path,
        portrait: str, words: tuple[str, str], extra: tuple[str, ...], message: str) -> None:
    picture = files.get(portrait) or bad[portrait]
    flag, value = words
    if flag == "--script":
        value = str(bad[value])
    out = tmp_path / "out.mp4"
    code, stdout, err = cli(capsys, "humans", "speak", "--portrait", str(picture), flag, value, "-o", str(out),
                            "--data-dir", str(tmp_path / "data"), *(extra if "--size" in extra else
                                                                    ("--size", SIZE, *extra)))
    assert code != 0 and message in err, err
    assert nothing_written(tmp_path, out)


@pytest.mark.parametrize(("args", "message"), [
    (("--human", "B. Speaker", "--text", "Hi."), "give the presenter's face with --portrait"),
    (("--text", "Hi.", "--script", "x.txt"), "with --text or --script (one of them)"),
    (("--portrait", "face.png", "--text", "Hi.", "-o", "out.webm"), "name the output .mp4"),
])
def test_missing_or_clashing_options_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 args: tuple[str, ...], message: str) -> None:
    out = ("-o", str(tmp_path / "out.mp4")) if "-o" not in args else ()
    code, stdout, err = cli(capsys, "humans", "speak", *args, *out, "--data-dir", str(tmp_path / "data"))
    assert code != 0 and not stdout and message in err, err


def test_face_index_picks_one_of_several_faces(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
                                               tmp_path: Path) -> None:
    out = tmp_path / "second.mp4"
    code, doc, err = speak(capsys, tmp_path / "data", out, "--portrait", str(files["two_faces"]), "--face-index", "1",
                           "--text", "Hello.")
    assert code == 0, err
    assert out.is_file() and doc["frames"] > 10 and doc["mouth"]["open_max"] > 0.2


def test_a_label_that_does_not_read_back_is_refused_and_nothing_written(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The label is read back by the recogniser alone, on the box where it was drawn: a font that claims 生成
    but draws nothing for it leaves a label of "AI", and the video is refused."""
    from tests.govern.test_explicit import _font_with

    monkeypatch.setenv("VIDLENS_CJK_FONT", str(_font_with(tmp_path, "liar.otf", "AI", blank="生成")))
    out = tmp_path / "out" / "liar.mp4"
    out.parent.mkdir()
    code, _, err = speak(capsys, tmp_path / "data", out, "--portrait", str(files["face_jpg"]), "--text", "Hello.")
    assert code == 10 and "could not be read back" in err and "nothing was written" in err, err
    assert list(out.parent.iterdir()) == []
