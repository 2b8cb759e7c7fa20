"""Audio tags through ``mutagen`` (well kept, pure Python): ID3 ``TXXX:AIGC`` and Vorbis comment ``AIGC``.

mutagen edits tags without touching the audio frames. It raises many exception
types on damaged files; reading turns all of them into a reported problem.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from vidlens.errors import CorruptMediaError
from vidlens.govern.codecs.base import Found, LabelCodec, ReadResult
from vidlens.plugins import PluginManifest

MAX_AUDIO_TAG_FILE = 512 * 1024 * 1024


def _mutagen_error(exc: Exception, path: Path) -> CorruptMediaError:
    return CorruptMediaError(f"{path.name}: tag error: {exc}", path=str(path))


class Id3Codec(LabelCodec):
    name = "mp3-id3"
    extensions = (".mp3",)
    sniff_order = 2  # a bare MP3 frame sync is the loosest signature of all
    manifest = PluginManifest(name, "1", "label_codec", "MP3: the label in an ID3v2 TXXX frame.")

    def sniff(self, head: bytes) -> bool:
        return head[:3] == b"ID3" or (len(head) > 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        from mutagen.id3 import ID3, ID3NoHeaderError

        result = ReadResult()
        try:
            tags = ID3(io.BytesIO(f.read(min(size, MAX_AUDIO_TAG_FILE))))
        except ID3NoHeaderError:
            return result
        except Exception as exc:  # mutagen raises assorted types on damaged tags
            result.corrupt(f"ID3 tag: {type(exc).__name__}: {exc}")
            return result
        for frame in tags.getall("TXXX"):
            if frame.desc.upper() in ("AIGC", "TC260:AIGC"):
                for text in frame.text:
                    result.found.append(Found(str(text).encode("utf-8"), f"ID3/TXXX:{frame.desc}"))
        return result

    def write(self, src: Path, dst: Path, value: str) -> None:
        from mutagen.id3 import ID3, TXXX, ID3NoHeaderError

        shutil.copyfile(src, dst)
        try:
            try:
                tags = ID3(dst)
            except ID3NoHeaderError:
                tags = ID3()
            for frame in list(tags.getall("TXXX")):
                if frame.desc.upper() in ("AIGC", "TC260:AIGC"):
                    tags.delall(f"TXXX:{frame.desc}")
            tags.add(TXXX(encoding=3, desc="AIGC", text=[value]))
            tags.save(dst)
        except Exception as exc:
            raise _mutagen_error(exc, src) from exc

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.mp3", ["-c:a", "libmp3lame"], video=False)]


class VorbisCommentCodec(LabelCodec):
    name = "vorbis-comment"
    extensions = (".flac", ".ogg", ".opus")
    manifest = PluginManifest(name, "1", "label_codec", "FLAC/Ogg/Opus: the label in a Vorbis comment.")

    def sniff(self, head: bytes) -> bool:
        return head[:4] in (b"fLaC", b"OggS")

    def _open(self, path_or_file: Any) -> Any:
        import mutagen

        return mutagen.File(path_or_file)

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        try:
            audio = self._open(io.BytesIO(f.read(min(size, MAX_AUDIO_TAG_FILE))))
        except Exception as exc:
            result.corrupt(f"Vorbis comment: {type(exc).__name__}: {exc}")
            return result
        if audio is None or audio.tags is None:
            return result
        for key, value in audio.tags.items() if hasattr(audio.tags, "items") else []:
            if key.upper() in ("AIGC", "TC260:AIGC"):
                values = value if isinstance(value, list) else [value]
                for v in values:
                    result.found.append(Found(str(v).encode("utf-8"), f"VorbisComment:{key}"))
        return result

    def write(self, src: Path, dst: Path, value: str) -> None:
        shutil.copyfile(src, dst)
        try:
            audio = self._open(dst)
            if audio is None:
                raise CorruptMediaError(f"{src.name}: not a FLAC/Ogg file mutagen understands", path=str(src))
            if audio.tags is None:
                audio.add_tags()
            for key in list(audio.tags.keys()):
                if key.upper() in ("AIGC", "TC260:AIGC"):
                    del audio.tags[key]
            audio.tags["AIGC"] = [value]
            audio.save()
        except CorruptMediaError:
            raise
        except Exception as exc:
            raise _mutagen_error(exc, src) from exc

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.flac", ["-c:a", "flac"], video=False),
                make_sample(directory / "sample.ogg", ["-c:a", "libvorbis"], video=False)]
