"""The contract every LabelCodec must meet; each codec's test class inherits it."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import av
import pytest

from vidlens.govern.codecs import codecs
from vidlens.govern.codecs.audio import Id3Codec, VorbisCommentCodec
from vidlens.govern.codecs.base import LabelCodec
from vidlens.govern.codecs.flv import FlvCodec
from vidlens.govern.codecs.jpeg import JpegCodec
from vidlens.govern.codecs.mkv import MkvCodec
from vidlens.govern.codecs.mp4 import Mp4Codec
from vidlens.govern.codecs.png import PngCodec
from vidlens.govern.codecs.riff import RiffCodec
from vidlens.govern.codecs.ts import TsCodec
from vidlens.govern.implicit import codec_for, read_label, write_label
from vidlens.govern.label import new_label
from vidlens.media.ffmpeg import ffmpeg_exe
from vidlens.plugins import discovered

LABEL = new_label("1", "001191110102MAD55U9H0F10002", "clip-0001")


def _metadata(path: Path) -> tuple[int, dict[str, str]]:
    """Audio/video/subtitle stream count (a timed-metadata stream is a label carrier) and global tags."""
    with av.open(str(path)) as c:
        return len([s for s in c.streams if s.type != "data"]), {k.lower(): v for k, v in c.metadata.items()}


class CodecContract:
    codec: LabelCodec

    @pytest.fixture(scope="class")
    @classmethod
    def examples(cls, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
        return cls.codec.examples(tmp_path_factory.mktemp(cls.codec.name))

    def test_examples_are_sniffed_by_this_codec_only_first(self, examples: list[Path]) -> None:
        assert examples
        for path in examples:
            assert codec_for(path) is next(c for c in codecs() if type(c) is type(self.codec))

    def test_unlabelled_example_reads_clean(self, examples: list[Path]) -> None:
        for path in examples:
            report = read_label(path)
            assert report.label is None and report.count == 0
            assert [p.code for p in report.problems] == ["no_label"]

    def test_write_reads_back_and_keeps_content(self, examples: list[Path], tmp_path: Path) -> None:
        for path in examples:
            out = tmp_path / ("labelled" + path.suffix)
            before_hash = self.codec.content_hash(path)
            streams, meta = _metadata(path)
            report = write_label(path, out, LABEL)
            assert report.label == LABEL and report.problems == []
            assert self.codec.content_hash(out) == before_hash
            streams_after, meta_after = _metadata(out)
            assert streams_after == streams
            if "title" in meta:
                assert meta_after.get("title") == "keep-me"
            log = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out), "-f", "null", "-"],
                                 capture_output=True, text=True, check=True).stderr
            assert log.strip() == ""

    def test_rewrite_replaces_instead_of_adding(self, examples: list[Path], tmp_path: Path) -> None:
        path = examples[0]
        out = tmp_path / ("twice" + path.suffix)
        write_label(path, out, LABEL)
        write_label(out, out, LABEL.replace(Label="3", ProduceID="second"))
        report = read_label(out)
        assert report.count == 1
        assert report.label is not None and (report.label.Label, report.label.ProduceID) == ("3", "second")

    def test_damaged_files_never_raise(self, examples: list[Path], tmp_path: Path) -> None:
        labelled = tmp_path / ("l" + examples[0].suffix)
        write_label(examples[0], labelled, LABEL)
        data = labelled.read_bytes()
        rng = random.Random(7)
        damaged = tmp_path / ("d" + examples[0].suffix)
        cuts = sorted({rng.randrange(8, len(data)) for _ in range(12)})
        for cut in cuts:
            damaged.write_bytes(data[:cut])
            read_label(damaged)
        for _ in range(25):
            buf = bytearray(data)
            for _ in range(8):
                buf[rng.randrange(8, len(buf))] = rng.randrange(256)
            damaged.write_bytes(bytes(buf))
            read_label(damaged)


class TestMp4(CodecContract):
    codec = Mp4Codec()


class TestMatroska(CodecContract):
    codec = MkvCodec()


class TestFlv(CodecContract):
    codec = FlvCodec()


class TestRiff(CodecContract):
    codec = RiffCodec()


class TestPng(CodecContract):
    codec = PngCodec()


class TestJpeg(CodecContract):
    codec = JpegCodec()


class TestVorbisComment(CodecContract):
    codec = VorbisCommentCodec()


class TestId3(CodecContract):
    codec = Id3Codec()


class TestMpegTs(CodecContract):
    codec = TsCodec()


def test_every_registered_codec_has_a_contract_test() -> None:
    tested = {cls.codec.name for cls in CodecContract.__subclasses__()}
    assert tested == {c.name for c in codecs()}


def test_codecs_are_the_installed_plugins_with_loose_signatures_last() -> None:
    names = [c.name for c in codecs()]
    assert set(names) == {p.manifest.name for p in discovered().of_kind("label_codec")} and len(names) == 9
    # three 0x47 bytes 188 apart and a bare MP3 frame sync match more than their formats: tried last
    assert names[-2:] == ["mpegts", "mp3-id3"]
