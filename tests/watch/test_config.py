"""The watch config: the issue's example validates, and every mistake names its YAML line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.errors import ConfigError
from vidlens.watch.settings import CameraConfig, load_yaml

EXAMPLE = """\
cameras:
  lobby:
    source: rtsp://127.0.0.1:8554/lobby   # also rtmp://, srt://, http(s)://, or a local file
    detect: {fps: 5, objects: [person, car]}
    lines: {door: [[0.0, 0.5], [1.0, 0.5]]}               # fractions of width and height
    zones: {desk: {polygon: [[0.2, 0.2], [0.6, 0.2], [0.6, 0.9], [0.2, 0.9]], loiter_s: 30}}
    record: {pre_s: 5, post_s: 5, retain_days: 7}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cameras.yml"
    p.write_text(text)
    return p


def test_the_issue_example_loads(tmp_path: Path) -> None:
    s = load_yaml(_write(tmp_path, EXAMPLE))
    cam = s.cameras["lobby"]
    assert cam.detect.fps == 5 and cam.detect.objects == ["person", "car"]
    assert cam.lines["door"].a == (0.0, 0.5) and cam.lines["door"].b == (1.0, 0.5)
    assert cam.zones["desk"].loiter_s == 30 and len(cam.zones["desk"].polygon) == 4
    assert cam.record.pre_s == 5 and cam.record.retain_days == 7


@pytest.mark.parametrize(("bad", "good", "line", "says"), [
    ("detect: {fps: 5,", "detect: {fsp: 5,", 4, "unknown key"),  # a typo in a key
    ("loiter_s: 30", "loiter_s: -3", 6, "greater than 0"),
    ("[[0.0, 0.5], [1.0, 0.5]]", "[[0.0, 0.5], [1.5, 0.5]]", 5, "outside the picture"),
    ("rtsp://127.0.0.1:8554/lobby", "rtps://127.0.0.1:8554/lobby", 3, "unsupported scheme"),
    ("pre_s: 5", "pre_s: five", 7, "valid number"),
])
def test_a_mistake_names_its_line(tmp_path: Path, bad: str, good: str, line: int, says: str) -> None:
    text = EXAMPLE.replace(bad.replace("fsp", "fps"), good, 1) if "fsp" in good else EXAMPLE.replace(bad, good, 1)
    assert text != EXAMPLE
    with pytest.raises(ConfigError) as exc:
        load_yaml(_write(tmp_path, text))
    assert f"cameras.yml:line {line}:" in exc.value.message and says in exc.value.message


def test_broken_yaml_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 3: not valid YAML"):
        load_yaml(_write(tmp_path, "cameras:\n  lobby:\n\tsource: x.mp4\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="letters, digits"):
        load_yaml(_write(tmp_path, "cameras:\n  'a/b': {source: x.mp4}\n"))


def test_the_watch_section_is_part_of_the_settings(tmp_path: Path) -> None:
    from vidlens.settings import load_settings

    cfg = tmp_path / "vidlens.toml"
    cfg.write_text('[watch.cameras.gate]\nsource = "rtmp://0.0.0.0:1935/live/gate"\nlisten = true\n')
    assert load_settings(cfg).watch.cameras["gate"].listen  # type: ignore[attr-defined]


def test_watchlist_and_live_are_opted_in_per_camera(tmp_path: Path) -> None:
    s = load_yaml(_write(tmp_path, EXAMPLE + "    watchlist: true\n    live: true\n"))
    cam = s.cameras["lobby"]
    assert cam.watchlist and cam.live.enabled and cam.live.max_height == 720 and cam.live.rungs == 1
    assert not CameraConfig(source="x.mp4").watchlist and not CameraConfig(source="x.mp4").live.enabled
    with pytest.raises(ConfigError) as exc:  # the restream pulls the camera again: a pushed stream cannot
        load_yaml(_write(tmp_path, "cameras:\n  gate:\n    source: rtmp://0.0.0.0:1935/live/gate\n"
                                   "    listen: true\n    live: {enabled: true}\n"))
    assert "cameras.yml:line 2:" in exc.value.message and "rtsp://" in exc.value.message
    with pytest.raises(ConfigError) as exc:
        load_yaml(_write(tmp_path, EXAMPLE + "    live: {enabled: true, max_height: 100}\n"))
    assert "cameras.yml:line 8:" in exc.value.message and "greater than or equal to 144" in exc.value.message
