"""Signed labelling and verification of files: what the CLI and triage call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.errors import MediaError, UsageError
from vidlens.govern import integrity
from vidlens.govern.implicit import LabelReport, codec_for, read_label, write_label
from vidlens.govern.label import AigcLabel, check_provider
from vidlens.identity import Identity

if TYPE_CHECKING:
    import numpy as np

    from vidlens.types import FrameSample


def label_file(src: Path, dst: Path, label: AigcLabel, *, data_dir: Path | None, sign: bool = True) -> LabelReport:
    """Write ``label`` (signed as producer when ``sign``) into ``dst``."""
    if sign:
        if data_dir is None:
            raise UsageError("signing needs a data directory for the key (or pass --no-sign)")
        label = integrity.sign(label, codec_for(src).content_hash(src), Identity.open(data_dir), "producer")
    return write_label(src, dst, label)


def propagate_file(src: Path, dst: Path, *, label: str, propagator: str, propagate_id: str,
                   data_dir: Path, sign: bool = True) -> LabelReport:
    """Write the propagation elements (Art. 6) over whatever producer fields the file has."""
    check_provider("propagator", propagator)
    current = read_label(src).label or AigcLabel()
    new = current.replace(Label=label, ContentPropagator=propagator, PropagateID=propagate_id, ReservedCode2="")
    if sign:
        new = integrity.sign(new, codec_for(src).content_hash(src), Identity.open(data_dir), "propagator")
    return write_label(src, dst, new)


def verify_file(path: Path, data_dir: Path) -> dict[str, Any]:
    """The label report plus the status of both signatures against the file's content."""
    report = read_label(path)
    out: dict[str, Any] = report.to_dict()
    if report.label is None:
        out.update(verified=False, checks=[])
        return out
    content_hash = codec_for(path).content_hash(path)
    identity = Identity.open(data_dir)
    checks = [integrity.check(report.label, content_hash, identity, role) for role in ("producer", "propagator")]
    signed = [c for c in checks if c.status != "absent"]
    out.update(content_hash=content_hash, checks=[c.to_dict() for c in checks],
               verified=bool(signed) and all(c.status == "valid" for c in signed))
    return out


def detect_watermarks(path: Path, *, max_seconds: float = 30.0, imwatermark: bool = True,
                      imwatermark_frames: int = 8) -> dict[str, Any]:
    """Our 64-bit mark and the public imwatermark dwtDct marks, from one decode of the video."""

    from vidlens.govern import imwm, watermark
    from vidlens.media.decode import ConsumerDone, Decoder, Sampling
    from vidlens.media.source import open_source

    acc = watermark.Accumulator()
    bgr_frames: list[np.ndarray] = []

    class _Marks:  # every frame's luma, as stored, into the running mean
        def push(self, sample: FrameSample) -> None:
            acc.add(sample.image)

        def finish(self) -> None:
            return None

    class _Samples:  # a few colour frames spread over the window for imwatermark
        def push(self, sample: FrameSample) -> None:
            bgr_frames.append(sample.image)
            if len(bgr_frames) >= imwatermark_frames:
                raise ConsumerDone

        def finish(self) -> None:
            return None

    dec = Decoder(open_source(path, end=max_seconds))  # clear damaged/foreign-file errors, like every reader
    dec.add_video(Sampling(pix_fmt="gray", upright=False), _Marks())
    if imwatermark and imwatermark_frames > 0:
        dec.add_video(Sampling(fps=imwatermark_frames / max_seconds, pix_fmt="bgr24", upright=False), _Samples())
    dec.run()
    out: dict[str, Any] = watermark.detect_mean(acc.mean(), acc.count).to_dict()
    if imwatermark:
        out["imwatermark"] = imwm.detect_frames(bgr_frames)
    return out


def burn_file(src: Path, dst: Path, *, data_dir: Path | None, ocr: Any = None, **options: Any) -> dict[str, Any]:
    """Burn the visible label into a temporary file, check it reads back, carry the implicit label over,
    then move it into place.

    ``ocr`` (default: the bundled RapidOCR) reads the label box back in every window; if it
    does not read the drawn text, nothing is written and ``MediaError`` says what it read:
    a compliance tool never reports a label it did not make. The implicit label is carried
    over (see ``_publish_reencode``).
    """
    import os
    import tempfile

    from vidlens.govern import explicit

    if src.resolve() == dst.resolve():
        raise UsageError("label burn re-encodes: OUT must differ from IN")
    old = read_label(src).label
    if ocr is None:
        ocr = explicit.default_ocr()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp.mp4", dir=dst.resolve().parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        info = explicit.burn(src, tmp, **options)
        readings = explicit.read_back(tmp, info, ocr)
        failed = [(t, text) for t, text in readings if not explicit.reads_as(text, info["text"])]
        if failed or not readings:
            t, text = failed[0] if failed else (0.0, "")
            raise MediaError(f"the burned label could not be read back: OCR read {text!r} at {t:.2f} s where "
                             f"{info['text']!r} was drawn (font {info['font']}); nothing was written",
                             details={"readings": readings})
        info["read_back"] = readings
        _publish_reencode(src, tmp, dst, old, data_dir, info)
    finally:
        tmp.unlink(missing_ok=True)
    return {"path": str(dst), **info}


def watermark_file(src: Path, dst: Path, payload: bytes, *, data_dir: Path | None, crf: int = 17) -> dict[str, Any]:
    """Embed the invisible watermark (a re-encode) and carry the implicit label over, as ``burn_file`` does."""
    import os
    import tempfile

    from vidlens.govern.watermark import embed_video

    if src.resolve() == dst.resolve():
        raise UsageError("watermark embed writes a new file: OUT must differ from IN")
    old = read_label(src).label
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp.mp4", dir=dst.resolve().parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        info = embed_video(src, tmp, payload, crf=crf)
        _publish_reencode(src, tmp, dst, old, data_dir, info)
    finally:
        tmp.unlink(missing_ok=True)
    return info


def _publish_reencode(src: Path, tmp: Path, dst: Path, old: AigcLabel | None, data_dir: Path | None,
                      info: dict[str, Any]) -> None:
    """Carry ``src``'s implicit label into the re-encoded ``tmp``, then move it over ``dst`` with ``src``'s mode.

    The picture changed, so a signature over the old content would no longer verify: the label is
    re-signed with this installation's key when it was signed, its reserved codes cleared otherwise.
    """
    import os

    if old is not None:
        carried = old.replace(ReservedCode1="", ReservedCode2="")
        if old.ReservedCode1 and data_dir is not None:
            carried = integrity.sign(carried, codec_for(tmp).content_hash(tmp),
                                     Identity.open(data_dir), "producer")
        write_label(tmp, tmp, carried)
        info["implicit_label"] = carried.to_dict()
    os.chmod(tmp, (dst if dst.exists() else src).stat().st_mode & 0o7777)
    os.replace(tmp, dst)
