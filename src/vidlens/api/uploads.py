"""Uploads: streamed to disk under ``<data_dir>/uploads/`` and named by content, never by the client.

A file arrives in ``uploads/.partial/<random>.part`` (multipart in one request, or chunk by
chunk with ``Content-Range`` for the resumable API), is hashed while it is written, probed,
then renamed to ``uploads/<sha256><ext>``, where ``ext`` is the type libav found in the
content (``vidlens.media.formats``). The client's name is kept as a display title and
nothing else. A file that is not media never leaves ``.partial`` and is deleted there.
Bytes past the limit are never written: the request fails with 413. Upload folders are
0700 and files 0600: only the server's user reads what people uploaded.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import sqlalchemy as sa
from anyio import to_thread

from vidlens.api.settings import ServeSettings
from vidlens.api.tables import uploads, video_uploads
from vidlens.errors import (
    ConflictError,
    MediaError,
    NotFoundError,
    UnsupportedMediaError,
    UsageError,
    VidLensError,
)
from vidlens.hashing import sha256_file
from vidlens.media.formats import media_type
from vidlens.media.probe import probe

if TYPE_CHECKING:
    from vidlens.api.auth import Principal
    from vidlens.catalog import Catalog, IngestResult
    from vidlens.services import ServiceContext
    from vidlens.store.db import Store

ALLOWED_PART_TYPES = (
    "video/",
    "audio/",
    "image/gif",
    "application/octet-stream",
    "application/mp4",
    "application/x-matroska",
    "application/vnd.rn-realmedia",
    "application/x-mpegurl",
)
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_WRITE_BATCH = 1 << 20


class UploadTooLargeError(VidLensError):
    http_status = 413
    code = "payload_too_large"


def display_name(client_name: str | None) -> str:
    """The client's file name reduced to a title: last path component, no control characters."""
    name = re.split(r"[\\/]", client_name or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:255] or "upload"


def check_part_type(content_type: str | None) -> None:
    ct = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not ct.startswith(ALLOWED_PART_TYPES):
        raise UnsupportedMediaError(
            f"uploaded file has content type '{ct}'; expected a video file "
            "(video/*, or application/octet-stream)",
            details={"content_type": ct},
        )


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by this user only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass
class PartialFile:
    """A file being written under ``uploads/.partial`` while its sha256 is computed."""

    path: Path
    limit: int
    size: int = 0
    sha: Any = field(default_factory=hashlib.sha256)
    _buf: bytearray = field(default_factory=bytearray)
    _fh: BinaryIO | None = None

    def open(self) -> PartialFile:
        private_dir(self.path.parent)
        self._fh = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        return self

    def feed(self, data: bytes) -> bool:
        """Buffer ``data``; True when a batch is ready for ``flush`` (run it off the event loop)."""
        self.size += len(data)
        if self.size > self.limit:
            raise UploadTooLargeError(
                f"upload exceeds the limit of {self.limit} bytes (serve.max_upload_bytes)",
                details={"limit_bytes": self.limit},
            )
        self._buf.extend(data)
        return len(self._buf) >= _WRITE_BATCH

    def flush(self) -> None:
        if self._buf and self._fh is not None:
            self.sha.update(self._buf)
            self._fh.write(self._buf)
            self._buf.clear()

    def close(self) -> None:
        self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.path.unlink(missing_ok=True)


class UploadStore:
    def __init__(self, store: Store, catalog: Catalog, root: Path, *, limit: int, chunk_bytes: int,
                 ttl_s: float = 24 * 3600.0, max_open_per_user: int = 10) -> None:
        self.store = store
        self.catalog = catalog
        self.root = root
        self.partial_dir = self.root / ".partial"
        self.limit = limit
        self.chunk_bytes = chunk_bytes
        self.ttl_s = ttl_s
        self.max_open_per_user = max_open_per_user
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> UploadStore:
        serve: ServeSettings = ctx.section(ServeSettings)
        media = ctx.root_settings.media
        return cls(ctx.store, ctx.service("catalog"), ctx.data_dir / "uploads",
                   limit=min(serve.max_upload_bytes, media.max_file_bytes),
                   chunk_bytes=serve.upload_chunk_bytes, ttl_s=serve.upload_ttl_s,
                   max_open_per_user=serve.max_open_uploads_per_user)

    def new_partial(self) -> PartialFile:
        return PartialFile(self.partial_dir / f"{secrets.token_hex(16)}.part", self.limit).open()

    # -- finishing ---------------------------------------------------------------
    def finish(self, partial_path: Path, digest: str, client_name: str, principal: Principal) -> IngestResult:
        """Move the file to its content name, ingest it under the client's file name (queues analysis),
        remember who uploaded it."""
        try:
            suffix, _ = media_type(probe(partial_path, require_video=False, sha256=digest))
        except MediaError as exc:  # not media: nothing of it is kept, and the message names the upload
            partial_path.unlink(missing_ok=True)
            exc.message = exc.message.replace(partial_path.name, display_name(client_name))
            raise
        except BaseException:
            partial_path.unlink(missing_ok=True)
            raise
        final = private_dir(self.root) / f"{digest}{suffix}"
        if final.exists():
            partial_path.unlink(missing_ok=True)
        else:
            os.chmod(partial_path, 0o600)
            os.replace(partial_path, final)
        try:
            res = self.catalog.ingest_file(final, title=display_name(client_name))
        except BaseException:
            if not self._referenced(final):
                final.unlink(missing_ok=True)
            raise
        if res.error is not None:
            if not self._referenced(final):
                final.unlink(missing_ok=True)
            raise res.error
        assert res.video is not None
        with self.store.tx() as conn:
            if (
                conn.execute(
                    sa.select(video_uploads.c.video_id).where(video_uploads.c.video_id == res.video.id)
                ).first()
                is None
            ):
                conn.execute(
                    video_uploads.insert().values(
                        video_id=res.video.id,
                        uploaded_by=principal.name,
                        uploaded_at=time.time(),
                    )
                )
        if res.status == "duplicate" and not self._referenced(final):  # the catalogue keeps the first copy
            final.unlink(missing_ok=True)
        return res

    def uploaded_by(self, video_id: str) -> str | None:
        """The user who first uploaded the video (None for videos ingested otherwise)."""
        with self.store.read() as conn:
            return conn.execute(  # type: ignore[no-any-return]
                sa.select(video_uploads.c.uploaded_by).where(video_uploads.c.video_id == video_id)
            ).scalar()

    def _referenced(self, path: Path) -> bool:
        from vidlens.store.schema import videos

        with self.store.read() as conn:
            return (
                conn.execute(sa.select(videos.c.id).where(videos.c.uri == str(path.resolve()))).first()
                is not None
            )

    # -- resumable uploads -------------------------------------------------------
    def _lock(self, upload_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(upload_id, threading.Lock())

    def create(self, principal: Principal, filename: str, size: int) -> dict[str, Any]:
        if size <= 0:
            raise UsageError("size must be a positive number of bytes")
        if size > self.limit:
            raise UploadTooLargeError(
                f"upload of {size} bytes exceeds the limit of {self.limit} bytes (serve.max_upload_bytes)",
                details={"limit_bytes": self.limit},
            )
        self.expire_abandoned()
        upload_id = secrets.token_hex(16)
        now = time.time()
        private_dir(self.partial_dir)
        with self.store.tx() as conn:
            open_now = conn.execute(sa.select(sa.func.count()).select_from(uploads).where(
                uploads.c.user_id == principal.user_id, uploads.c.status == "open")).scalar_one()
            if open_now >= self.max_open_per_user:
                raise ConflictError(
                    f"{principal.name} has {open_now} open uploads, the most allowed "
                    "(serve.max_open_uploads_per_user); complete or DELETE one first",
                    details={"open": open_now, "limit": self.max_open_per_user})
            os.close(os.open(self.partial_dir / f"{upload_id}.part", os.O_WRONLY | os.O_CREAT, 0o600))
            conn.execute(
                uploads.insert().values(
                    id=upload_id,
                    user_id=principal.user_id,
                    filename=display_name(filename),
                    total_bytes=size,
                    received_bytes=0,
                    status="open",
                    created_at=now,
                    updated_at=now,
                )
            )
        return self.get(upload_id, principal)

    def expire_abandoned(self) -> int:
        """Expire open uploads that received nothing for ``ttl_s`` and delete their bytes, and any partial
        file that old that no open upload owns (a request cut off by a crash). Returns how many expired."""
        cutoff = time.time() - self.ttl_s
        with self.store.tx() as conn:
            stale = [r.id for r in conn.execute(sa.select(uploads.c.id).where(
                uploads.c.status == "open", uploads.c.updated_at < cutoff))]
            if stale:
                conn.execute(uploads.update().where(uploads.c.id.in_(stale))
                             .values(status="expired", updated_at=time.time()))
            live = {r.id for r in conn.execute(sa.select(uploads.c.id).where(uploads.c.status == "open"))}
        if self.partial_dir.is_dir():
            for part in self.partial_dir.glob("*.part"):
                try:
                    if part.stem not in live and part.stat().st_mtime < cutoff:
                        part.unlink(missing_ok=True)
                except FileNotFoundError:
                    pass
        for upload_id in stale:
            (self.partial_dir / f"{upload_id}.part").unlink(missing_ok=True)
        return len(stale)

    def get(self, upload_id: str, principal: Principal) -> dict[str, Any]:
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise NotFoundError(f"no upload '{upload_id}'")
        self._expire_if_stale(upload_id)
        with self.store.read() as conn:
            row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).first()
        if row is None or (row.user_id != principal.user_id and not principal.has("admin")):
            raise NotFoundError(f"no upload '{upload_id}'")
        d = dict(row._mapping)
        d["offset"] = d["received_bytes"]
        d["chunk_bytes"] = self.chunk_bytes
        return d

    def _expire_if_stale(self, upload_id: str) -> None:
        with self.store.tx() as conn:
            res = conn.execute(uploads.update().where(
                uploads.c.id == upload_id, uploads.c.status == "open",
                uploads.c.updated_at < time.time() - self.ttl_s).values(status="expired", updated_at=time.time()))
        if res.rowcount:
            (self.partial_dir / f"{upload_id}.part").unlink(missing_ok=True)

    async def put_chunk(
        self, upload_id: str, principal: Principal, content_range: str | None, body: AsyncIterator[bytes]
    ) -> dict[str, Any]:
        up = await to_thread.run_sync(self.get, upload_id, principal)
        m = _CONTENT_RANGE.match((content_range or "").strip())
        if not m:
            raise UsageError("Content-Range header required: 'bytes START-END/TOTAL'")
        start, end, total = (int(x) for x in m.groups())
        if total != up["total_bytes"] or end < start or end >= total:
            raise UsageError(
                f"Content-Range {content_range!r} does not fit an upload of {up['total_bytes']} bytes"
            )
        lock = self._lock(upload_id)
        if not lock.acquire(blocking=False):
            raise ConflictError(f"another chunk of upload {upload_id} is being written; retry")
        try:
            up = await to_thread.run_sync(self.get, upload_id, principal)
            if up["status"] != "open":
                raise ConflictError(f"upload {upload_id} is {up['status']}")
            if start != up["received_bytes"]:
                raise ConflictError(
                    f"chunk starts at {start} but the upload has {up['received_bytes']} bytes; "
                    "resume from 'offset'",
                    details={"offset": up["received_bytes"]},
                )
            path = self.partial_dir / f"{upload_id}.part"
            expected = end - start + 1
            got = 0
            with open(path, "r+b") as fh:
                fh.seek(start)
                fh.truncate()
                async for chunk in body:
                    got += len(chunk)
                    if got > expected:
                        break
                    await to_thread.run_sync(fh.write, chunk)
            if got != expected:
                with open(path, "r+b") as fh:
                    fh.truncate(start)
                raise UsageError(f"chunk body has {got} bytes but Content-Range announced {expected}")
            with self.store.tx() as conn:
                conn.execute(
                    uploads.update()
                    .where(uploads.c.id == upload_id)
                    .values(received_bytes=end + 1, updated_at=time.time())
                )
        finally:
            lock.release()
        return await to_thread.run_sync(self.get, upload_id, principal)

    def complete(self, upload_id: str, principal: Principal) -> tuple[dict[str, Any], IngestResult]:
        lock = self._lock(upload_id)
        with lock:
            up = self.get(upload_id, principal)
            if up["status"] != "open":
                raise ConflictError(f"upload {upload_id} is {up['status']}")
            if up["received_bytes"] != up["total_bytes"]:
                raise ConflictError(
                    f"upload {upload_id} has {up['received_bytes']} of {up['total_bytes']} bytes",
                    details={"offset": up["received_bytes"]},
                )
            path = self.partial_dir / f"{upload_id}.part"
            try:
                res = self.finish(path, sha256_file(path), up["filename"], principal)
            except VidLensError:
                self._set_status(upload_id, "failed")
                raise
            self._set_status(upload_id, "complete", res.video.id if res.video else None)
        return self.get(upload_id, principal), res

    def abort(self, upload_id: str, principal: Principal) -> dict[str, Any]:
        with self._lock(upload_id):
            up = self.get(upload_id, principal)
            if up["status"] != "open":
                raise ConflictError(f"upload {upload_id} is {up['status']}")
            (self.partial_dir / f"{upload_id}.part").unlink(missing_ok=True)
            self._set_status(upload_id, "aborted")
        return self.get(upload_id, principal)

    def _set_status(self, upload_id: str, status: str, video_id: str | None = None) -> None:
        with self.store.tx() as conn:
            conn.execute(
                uploads.update()
                .where(uploads.c.id == upload_id)
                .values(status=status, video_id=video_id, updated_at=time.time())
            )


@dataclass
class MultipartUpload:
    partial: PartialFile | None = None
    filename: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


async def receive_multipart(
    content_type: str, body: AsyncIterator[bytes], store: UploadStore, file_field: str = "file"
) -> MultipartUpload:
    """Stream a ``multipart/form-data`` body: the ``file_field`` part goes straight to a partial
    file in the data dir (never to memory or the system temp dir); small text fields are kept."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, params = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise UnsupportedMediaError(
            f"expected a multipart/form-data body with a '{file_field}' part, "
            f"got '{content_type or 'no content type'}'",
            details={"content_type": content_type},
        )
    out = MultipartUpload()
    part: dict[str, Any] = {}
    header = [b"", b""]
    pending: list[bytes] = []
    small_limit = 64 * 1024

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, data=bytearray(), is_file=False)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        part["headers"][header[0].lower()] = header[1]
        header[0], header[1] = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(part["headers"].get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        part["name"] = name
        # the file part: one with a file name, or a typed part (some clients drop an empty file name)
        if name == file_field and (b"filename" in opts or b"content-type" in part["headers"]):
            if out.partial is not None:
                raise UsageError(f"only one '{file_field}' part is accepted per request")
            check_part_type(part["headers"].get(b"content-type", b"").decode("latin-1"))
            out.filename = opts.get(b"filename", b"").decode("utf-8", "replace")
            out.partial = store.new_partial()
            part["is_file"] = True

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.get("is_file"):
            assert out.partial is not None
            if out.partial.feed(data[start:end]):
                pending.append(b"")
        else:
            part["data"].extend(data[start:end])
            if len(part["data"]) > small_limit:
                raise UsageError(f"form field '{part.get('name')}' is larger than {small_limit} bytes")

    def on_part_end() -> None:
        if not part.get("is_file") and part.get("name") and len(out.fields) < 32:
            out.fields[part["name"]] = bytes(part["data"]).decode("utf-8", "replace")

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
            if pending and out.partial is not None:
                pending.clear()
                await to_thread.run_sync(out.partial.flush)
        parser.finalize()
        if out.partial is None:
            raise UsageError(f"no '{file_field}' file part in the form")
        await to_thread.run_sync(out.partial.close)
    except FormParserError as exc:
        if out.partial is not None:
            out.partial.discard()
        raise UsageError(f"malformed multipart body: {exc}") from None
    except BaseException:
        if out.partial is not None:
            out.partial.discard()
        raise
    return out
