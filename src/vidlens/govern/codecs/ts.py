"""MPEG-TS: the label as ID3 timed metadata, the way HLS carries timed metadata in TS segments.

The program's PMT gains one elementary stream of type 0x15 (metadata in PES) whose
``metadata_descriptor`` names the ``ID3 `` format, plus a ``metadata_pointer_descriptor``;
one PES packet (private stream 1) at the file's first presentation time carries an
ID3v2.4 tag with a UTF-8 ``TXXX`` frame ``AIGC``. FFmpeg reports such a stream as
``timed_id3`` and HLS players surface it as timed metadata. Writing copies every other
packet unchanged (byte for byte, continuity counters included), rewrites each PMT
packet in place and inserts the label's packets after the first PMT, so no audio or
video timing moves. Earlier label streams are dropped, never stacked. Packet IDs are
classified with NumPy a block at a time, so a long file is scanned at disk speed.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vidlens.errors import CorruptMediaError, UnsupportedMediaError
from vidlens.govern.codecs.base import Found, LabelCodec, ReadResult
from vidlens.plugins import PluginManifest

PACKET = 188
SYNC = 0x47
BLOCK_PACKETS = 8192
STREAM_TYPE_METADATA = 0x15
LABEL_STREAM_ID = 0xBD  # private_stream_1, as HLS timed metadata uses
_ID3_FORMAT = b"\xff\xffID3 \xffID3 "  # application format 0xFFFF + 'ID3 ', metadata format 0xFF + 'ID3 '
_PTS_SCAN_PACKETS = 4096  # the first presentation time is found among the first packets
MAX_PES = 1 << 20  # a label PES is well under 1 KiB
MAX_METADATA_PES = 4096
_KEYS = ("AIGC", "TC260:AIGC")


@dataclass(slots=True)
class Stream:
    stream_type: int
    pid: int
    descriptors: bytes

    @property
    def is_id3(self) -> bool:
        return self.stream_type == STREAM_TYPE_METADATA and b"ID3 " in self.descriptors


@dataclass(slots=True)
class Pmt:
    pid: int
    program: int
    version_byte: int
    pcr_pid: int
    program_info: bytes
    streams: list[Stream]
    single_packet: bool = True

    def section(self) -> bytes:
        body = struct.pack(">HBBBHH", self.program, self.version_byte, 0, 0, 0xE000 | self.pcr_pid,
                           0xF000 | len(self.program_info)) + self.program_info
        for s in self.streams:
            body += struct.pack(">BHH", s.stream_type, 0xE000 | s.pid, 0xF000 | len(s.descriptors)) + s.descriptors
        head = struct.pack(">BH", 0x02, 0xB000 | (len(body) + 4))
        return head + body + struct.pack(">I", crc32_mpeg(head + body))


@dataclass(slots=True)
class Scan:
    """What one pass over the file found: the first program's PMT, metadata PES and the packet IDs used."""

    pmt: Pmt | None = None
    pes: dict[int, list[bytes]] = field(default_factory=dict)
    pids: set[int] = field(default_factory=set)
    first_pts: int | None = None
    pmt_changes: bool = False  # a later PMT differs from the first (streams change within the file)


def crc32_mpeg(data: bytes) -> int:
    """CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection) of a PSI section."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def _payload(packet: bytes) -> bytes | None:
    """The packet's payload after any adaptation field, or None when it has none or lies about its size."""
    control = (packet[3] >> 4) & 3
    if not control & 1:
        return None
    start = 4
    if control & 2:
        start = 5 + packet[4]
        if start > PACKET:
            return None
    return packet[start:]


def _pid(packet: bytes) -> int:
    return ((packet[1] & 0x1F) << 8) | packet[2]


def _blocks(f: BinaryIO, size: int, result: ReadResult | None) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, packets as an N×188 array) for every whole-packet block; a sync loss ends the walk."""
    f.seek(0)
    offset = 0
    whole = size - size % PACKET
    if whole != size and result is not None:
        result.corrupt(f"file size {size} is not a whole number of 188-byte packets (truncated?)")
    while offset < whole:
        data = f.read(min(BLOCK_PACKETS * PACKET, whole - offset))
        if len(data) < PACKET:
            break
        packets = np.frombuffer(data[: len(data) - len(data) % PACKET], dtype=np.uint8).reshape(-1, PACKET)
        lost = np.nonzero(packets[:, 0] != SYNC)[0]
        if lost.size:
            if result is not None:
                result.corrupt(f"lost packet sync at byte {offset + int(lost[0]) * PACKET}")
            if lost[0]:
                yield offset, packets[: lost[0]]
            return
        yield offset, packets
        offset += len(packets) * PACKET


def _sections(chunks: list[bytes]) -> bytes | None:
    """One PSI section from a PUSI payload and its continuations (pointer field honoured)."""
    data = b"".join(chunks)
    if not data or 1 + data[0] + 3 > len(data):
        return None
    start = 1 + data[0]
    length = ((data[start + 1] & 0x0F) << 8) | data[start + 2]
    end = start + 3 + length
    return data[start:end] if end <= len(data) else None


def _parse_pat(section: bytes) -> int | None:
    """The PMT PID of the first program (program number 0 is the network PID, skipped)."""
    if len(section) < 12 or section[0] != 0x00:
        return None
    for pos in range(8, len(section) - 4 - 3, 4):
        program, pid = struct.unpack_from(">HH", section, pos)
        if program != 0:
            return pid & 0x1FFF
    return None


def _parse_pmt(section: bytes, pid: int) -> Pmt | None:
    if len(section) < 16 or section[0] != 0x02 or crc32_mpeg(section) != 0:
        return None
    program, version_byte = struct.unpack_from(">HB", section, 3)
    pcr_pid = struct.unpack_from(">H", section, 8)[0] & 0x1FFF
    info_len = struct.unpack_from(">H", section, 10)[0] & 0x0FFF
    pos, end = 12 + info_len, len(section) - 4
    if pos > end:
        return None
    streams = []
    while pos + 5 <= end:
        stream_type, es_pid, es_len = struct.unpack_from(">BHH", section, pos)
        es_len &= 0x0FFF
        if pos + 5 + es_len > end:
            return None
        streams.append(Stream(stream_type, es_pid & 0x1FFF, section[pos + 5:pos + 5 + es_len]))
        pos += 5 + es_len
    return Pmt(pid, program, version_byte, pcr_pid, section[12:12 + info_len], streams)


def _pts(pes_start: bytes) -> int | None:
    if len(pes_start) < 14 or pes_start[:3] != b"\0\0\1" or not pes_start[7] & 0x80:
        return None
    b = pes_start[9:14]
    return ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def scan(f: BinaryIO, size: int, result: ReadResult | None = None) -> Scan:
    """One pass: PAT → first PMT → the PES of its ID3 metadata streams; packet IDs; first PTS."""
    out = Scan()
    pmt_pid: int | None = None
    pmt_section = b""
    pending: dict[int, list[bytes]] = {}  # PSI sections being assembled, by PID
    current: dict[int, bytearray] = {}  # metadata PES being assembled
    metadata: set[int] = set()
    timed = 0  # packets looked at for the first presentation time
    for _, packets in _blocks(f, size, result):
        pids = ((packets[:, 1].astype(np.int32) & 0x1F) << 8) | packets[:, 2]
        out.pids.update(int(p) for p in np.unique(pids))
        if out.pmt is None or timed < _PTS_SCAN_PACKETS:
            rows = np.arange(len(packets))
        else:
            rows = np.nonzero(np.isin(pids, [0, pmt_pid, *metadata]))[0]
        for row in rows:
            packet = packets[row].tobytes()
            pid, start = _pid(packet), bool(packet[1] & 0x40)
            payload = _payload(packet)
            if payload is None:
                continue
            if pid == 0 or pid == pmt_pid:
                if start:
                    pending[pid] = [payload]
                elif pid in pending:
                    pending[pid].append(payload)
                section = _sections(pending.get(pid, []))
                if section is None:
                    continue
                del pending[pid]
                if pid == 0 and pmt_pid is None:
                    pmt_pid = _parse_pat(section)
                elif pid == pmt_pid and out.pmt is None:
                    out.pmt = _parse_pmt(section, pid)
                    if out.pmt is None:
                        if result is not None:
                            result.corrupt("PMT section is malformed or fails its CRC")
                        return out
                    out.pmt.single_packet = start and 1 + payload[0] + len(section) <= len(payload)
                    pmt_section = section
                    metadata = {s.pid for s in out.pmt.streams if s.is_id3}
                elif pid == pmt_pid and section != pmt_section:
                    out.pmt_changes = True
                continue
            if out.pmt is None:
                continue
            if timed < _PTS_SCAN_PACKETS:
                timed += 1
                if start and pid not in metadata and pid in {s.pid for s in out.pmt.streams}:
                    pts = _pts(payload)
                    if pts is not None and (out.first_pts is None or pts < out.first_pts):
                        out.first_pts = pts
            if pid in metadata:
                if start:
                    if pid in current:
                        _finish(out, pid, current.pop(pid), result)
                    current[pid] = bytearray(payload)
                elif pid in current and len(current[pid]) < MAX_PES:
                    current[pid] += payload
    for pid, data in current.items():
        _finish(out, pid, data, result)
    return out


def _finish(out: Scan, pid: int, pes: bytearray, result: ReadResult | None) -> None:
    found = out.pes.setdefault(pid, [])
    if len(found) >= MAX_METADATA_PES:
        if len(found) == MAX_METADATA_PES and result is not None:
            result.corrupt(f"more than {MAX_METADATA_PES} metadata PES on PID {pid:#x}; the rest not read")
        return
    found.append(bytes(pes))


def _pes_body(pes: bytes) -> bytes | None:
    if len(pes) < 9 or pes[:3] != b"\0\0\1":
        return None
    length = struct.unpack_from(">H", pes, 4)[0]
    end = 6 + length if length else len(pes)
    return pes[9 + pes[8]:end]


def id3_frames(pes: bytes, result: ReadResult | None = None) -> tuple[list[bytes], int] | None:
    """(AIGC values, count of other frames) in one metadata PES, or None when it holds no ID3 tag."""
    from mutagen.id3 import ID3, ID3NoHeaderError

    body = _pes_body(pes)
    if body is None:
        if result is not None:
            result.corrupt("metadata PES without a valid PES header")
        return None
    try:
        tags = ID3(io.BytesIO(body))
    except ID3NoHeaderError:
        return None
    except Exception as exc:  # mutagen raises assorted types on damaged tags
        if result is not None:
            result.corrupt(f"timed ID3 tag: {type(exc).__name__}: {exc}")
        return None
    values, others = [], 0
    for frame in tags.values():
        if frame.FrameID == "TXXX" and frame.desc.upper() in _KEYS:
            values += [str(text).encode("utf-8") for text in frame.text]
        else:
            others += 1
    return values, others


def label_pes(value: str, pts: int) -> bytes:
    """A PES (private stream 1, data aligned, PTS only) holding an ID3v2.4 tag with ``TXXX:AIGC``."""
    from mutagen.id3 import ID3, TXXX

    tags = ID3()
    tags.add(TXXX(encoding=3, desc="AIGC", text=[value]))
    buf = io.BytesIO()
    tags.save(buf, v2_version=4, padding=lambda info: 0)
    id3 = buf.getvalue()
    pts &= (1 << 33) - 1
    pts_bytes = bytes([0x21 | ((pts >> 29) & 0x0E), (pts >> 22) & 0xFF, ((pts >> 14) & 0xFE) | 1,
                       (pts >> 7) & 0xFF, ((pts << 1) & 0xFE) | 1])
    header = b"\x84\x80\x05" + pts_bytes
    if len(header) + len(id3) > 0xFFFF:
        raise UnsupportedMediaError("the label is too long for one PES packet")
    return b"\0\0\1" + bytes([LABEL_STREAM_ID]) + struct.pack(">H", len(header) + len(id3)) + header + id3


def packetize(pid: int, payload: bytes) -> bytes:
    """TS packets for one PES (or one PSI section with its pointer field), stuffed with an adaptation field."""
    out = bytearray()
    cc = 0
    first = True
    while first or payload:
        chunk, payload = payload[:184], payload[184:]
        header = bytes([SYNC, (0x40 if first else 0) | (pid >> 8), pid & 0xFF])
        if len(chunk) == 184:
            out += header + bytes([0x10 | cc]) + chunk
        else:
            stuffing = 183 - len(chunk)
            field_ = bytes([stuffing]) + (b"\x00" + b"\xff" * (stuffing - 1) if stuffing else b"")
            out += header + bytes([0x30 | cc]) + field_ + chunk
        cc = (cc + 1) & 0x0F
        first = False
    return bytes(out)


def _metadata_descriptor() -> bytes:
    return b"\x26\x0d" + _ID3_FORMAT + b"\x00\x0f"


def _pointer_descriptor(program: int) -> bytes:
    return b"\x25\x0f" + _ID3_FORMAT + b"\x00\x1f" + struct.pack(">H", program)


class TsCodec(LabelCodec):
    name = "mpegts"
    extensions = (".ts", ".m2t", ".mts")
    unhashed_streams = ("data",)  # the timed-metadata stream is the label itself
    sniff_order = 1  # three sync bytes 188 apart: loose, tried after every strict signature
    manifest = PluginManifest(name, "1", "label_codec", "MPEG-TS: the label in an ID3 timed-metadata stream.")

    def sniff(self, head: bytes) -> bool:
        return len(head) > 2 * PACKET and head[0] == head[PACKET] == head[2 * PACKET] == SYNC

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        found = scan(f, size, result)
        if found.pmt is None:
            result.corrupt("no PAT/PMT: not a readable MPEG transport stream")
            return result
        for pid, pes_list in sorted(found.pes.items()):
            for pes in pes_list:
                frames = id3_frames(pes, result)
                for value in frames[0] if frames else []:
                    result.found.append(Found(value, f"PID {pid:#x}/ID3/TXXX:AIGC"))
        return result

    def write(self, src: Path, dst: Path, value: str) -> None:
        size = src.stat().st_size
        with open(src, "rb") as f:
            probe = ReadResult()
            found = scan(f, size, probe)
        if probe.problems:
            raise CorruptMediaError(f"{src.name}: {probe.problems[0].message}", path=str(src))
        pmt = found.pmt
        if pmt is None:
            raise CorruptMediaError(f"{src.name}: no PAT/PMT found", path=str(src))
        if not pmt.single_packet or found.pmt_changes:
            raise UnsupportedMediaError(f"{src.name}: the PMT spans several packets or changes within the file",
                                        path=str(src))
        dropped = set()
        for pid, pes_list in found.pes.items():
            frames = [id3_frames(p) for p in pes_list]
            labels = [fr for fr in frames if fr and fr[0]]
            if labels and (len(labels) < len(frames) or any(other for _, other in labels)):
                raise UnsupportedMediaError(f"{src.name}: timed ID3 stream {pid:#x} mixes the label with other "
                                            "metadata", path=str(src))
            if labels:
                dropped.add(pid)
        label_pid = min(dropped) if dropped else next(p for p in range(0x100, 0x1FFF) if p not in found.pids)
        streams = [s for s in pmt.streams if s.pid not in dropped]
        streams.append(Stream(STREAM_TYPE_METADATA, label_pid, _metadata_descriptor()))
        info = pmt.program_info if b"\x25\x0f" + _ID3_FORMAT in pmt.program_info else (
            pmt.program_info + _pointer_descriptor(pmt.program))
        section = Pmt(pmt.pid, pmt.program, pmt.version_byte, pmt.pcr_pid, info, streams).section()
        if 1 + len(section) > 184:
            raise UnsupportedMediaError(f"{src.name}: the PMT would not fit one packet", path=str(src))
        pmt_payload = b"\x00" + section + b"\xff" * (183 - len(section))
        label_packets = packetize(label_pid, label_pes(value, found.first_pts or 0))
        _copy(src, size, dst, pmt.pid, pmt_payload, dropped, label_packets)

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.ts", ["-c:v", "libx264", "-c:a", "aac", "-f", "mpegts"])]


def _copy(src: Path, size: int, dst: Path, pmt_pid: int, pmt_payload: bytes, dropped: set[int],
          label_packets: bytes) -> None:
    """Copy ``src`` to ``dst`` with every PMT packet's payload replaced, ``dropped`` PIDs left out and
    ``label_packets`` inserted after the first PMT."""
    touched = {pmt_pid, *dropped}
    inserted = False
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        for _, packets in _blocks(fin, size, None):
            pids = ((packets[:, 1].astype(np.int32) & 0x1F) << 8) | packets[:, 2]
            hits = np.nonzero(np.isin(pids, list(touched)))[0]
            if not hits.size:
                fout.write(packets.tobytes())
                continue
            last = 0
            for row in hits:
                fout.write(packets[last:row].tobytes())
                last = row + 1
                packet = packets[row].tobytes()
                if int(pids[row]) in dropped:
                    continue
                if not packet[1] & 0x40:
                    fout.write(packet)
                    continue
                # a PMT start: same header and counter, the new section, no adaptation field
                fout.write(packet[:3] + bytes([0x10 | (packet[3] & 0x0F)]) + pmt_payload)
                if not inserted:
                    fout.write(label_packets)
                    inserted = True
            fout.write(packets[last:].tobytes())
