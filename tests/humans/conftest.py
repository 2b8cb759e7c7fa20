"""Files for digital-human tests: the committed GRID clip (one person, face and voice) and bad samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidlens.media.ffmpeg import run_ffmpeg


@pytest.fixture(scope="session")
def person(samples: Path) -> Path:
    """A GRID talking head: one frontal face and 3 s of read speech."""
    return samples / "bbaf2n.mpg"


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory, person: Path, samples: Path) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("humans-files")
    out = {
        "face_jpg": d / "face.jpg",
        "silence": d / "silence.wav",
        "tone": d / "tone.wav",
        "no_face": d / "llama.png",
        "two_faces": d / "two.png",
    }
    run_ffmpeg(["-ss", "1.0", "-i", str(person), "-frames:v", "1", str(out["face_jpg"])])
    run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "4", str(out["silence"])])
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "4", str(out["tone"])])
    run_ffmpeg(["-ss", "5", "-i", str(samples / "blender_caminandes_10s.mp4"), "-frames:v", "1", str(out["no_face"])])
    # the same face twice, side by side: which one is the person?
    run_ffmpeg(["-ss", "1.0", "-i", str(person), "-filter_complex", "[0:v]split[a][b];[a][b]hstack", "-frames:v", "1",
                str(out["two_faces"])])
    return out


def consent_file(path: Path, **change: object) -> Path:
    record = {"grantor": "Agent of B. Speaker", "allowed_uses": ["dubbing"], "territories": ["DE", "FR"],
              "expires": "2099-12-31"} | change
    path.write_text(json.dumps(record))
    return path
