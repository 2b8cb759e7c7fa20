"""A probed file's extension and MIME type, from what libav found in it, never from its name.

An upload's name is whatever the client sent (empty, 300 characters, ``movie.exe``); the
content decides how the file is stored and served.
"""

from __future__ import annotations

from vidlens.types import Video

# libav demuxer name (``Video.container``) -> (extension, MIME type)
_BY_DEMUXER: dict[str, tuple[str, str]] = {
    "mov,mp4,m4a,3gp,3g2,mj2": (".mp4", "video/mp4"),
    "matroska,webm": (".mkv", "video/x-matroska"),
    "avi": (".avi", "video/x-msvideo"),
    "mpeg": (".mpg", "video/mpeg"),
    "mpegts": (".ts", "video/mp2t"),
    "gif": (".gif", "image/gif"),
    "flv": (".flv", "video/x-flv"),
    "ogg": (".ogv", "video/ogg"),
    "asf": (".wmv", "video/x-ms-asf"),
    "rm": (".rm", "application/vnd.rn-realmedia"),
    "wav": (".wav", "audio/wav"),
    "mp3": (".mp3", "audio/mpeg"),
    "flac": (".flac", "audio/flac"),
    "aac": (".aac", "audio/aac"),
    "h264": (".h264", "video/h264"),
    "hevc": (".h265", "video/h265"),
    "yuv4mpegpipe": (".y4m", "video/x-yuv4mpeg"),
}
_WEBM_CODECS = {"vp8", "vp9", "av1", "opus", "vorbis"}
_FALLBACK = (".bin", "application/octet-stream")


def media_type(video: Video) -> tuple[str, str]:
    """``(extension, MIME type)`` for the container libav read, refined by its streams."""
    ext, mime = _BY_DEMUXER.get(video.container, _FALLBACK)
    codecs = {s.codec for s in video.streams}
    if video.container.startswith("matroska") and codecs and codecs <= _WEBM_CODECS:
        return ".webm", "video/webm"
    if video.container.startswith("mov"):
        if video.tags.get("major_brand", "").strip() == "qt":
            return ".mov", "video/quicktime"
        if video.width == 0:  # no picture: an audio file in an MP4 box
            return ".m4a", "audio/mp4"
    if video.container == "ogg" and video.width == 0:
        return ".ogg", "audio/ogg"
    return ext, mime
