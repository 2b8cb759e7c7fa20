"""``vidlens search``, ``similar``, ``recommend`` and ``event``: data on stdout, progress and messages on stderr."""

from __future__ import annotations

from pathlib import Path

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, log, open_platform, out, print_json


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.command()(similar)
    app.command()(recommend)
    app.command()(event)


def _ts(s: float) -> str:
    return f"{int(s // 60)}:{s % 60:04.1f}"


def search(
    query: str = typer.Argument("", help="Words to find (Chinese, English or mixed); may be empty with --image."),
    image: Path | None = typer.Option(None, "--image", help="Find moments that look like this picture or show "
                                                            "the face in it."),
    limit: int = typer.Option(20, "--limit", min=1, max=200, help="Hits to print."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many hits (the next page)."),
    person: str | None = typer.Option(None, "--person", help="Only moments while this person is on screen."),
    label: str | None = typer.Option(None, "--label", help="Only moments while this object or tag is present."),
    language: str | None = typer.Option(None, "--language", help="Only moments in this language (ISO 639-1)."),
    source: str | None = typer.Option(None, "--source", help="Only moments of library videos (video) or camera "
                                                             "events (event)."),
    camera: str | None = typer.Option(None, "--camera", help="Only events of this camera."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Find moments (video + seconds, or camera events) by words, meaning, picture and face, with the evidence
    of each hit."""
    from vidlens.errors import UsageError
    from vidlens.search.service import Filters

    data = None
    if image is not None:
        try:
            data = image.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the query image {image}: {exc.strerror or exc}") from None
    platform = open_platform(data_dir, config)
    svc = platform.service("search")
    with log.status("indexing new moments…", spinner="dots"):
        svc.refresh()
    result = svc.search(query, image=data, limit=limit, offset=offset,
                        filters=Filters(person=person, label=label, language=language, source=source,
                                        camera=camera))
    if json_out:  # a camera event's hit adds "event" (its camera, type, zone/line, track, snapshot and clip URLs)
        print_json({"hits": [{**{k: h[k] for k in ("video_id", "path", "start", "end", "score", "evidence")},
                              **({"event": h["event"]} if h["event"] else {})} for h in result["hits"]]})
        return
    if not result["hits"]:
        out.print("no moments found")
    for h in result["hits"]:
        why = "; ".join(f"{e['ranker']} ({e['kind']}): {e['text'][:80]}" for e in h["evidence"])
        where = h["path"] if h["event"] is None else f"camera {h['event']['camera']} (event {h['event']['id']})"
        clip = f"  clip {h['event']['clip']}" if h["event"] and h["event"]["clip"] else ""
        typer.echo(f"{where}  {_ts(h['start'])}-{_ts(h['end'])}  {h['score']:.4f}  {why}{clip}")


def similar(
    video: str = typer.Argument(..., help="A library video id (or its first 8+ characters) or a file in the library."),
    limit: int = typer.Option(10, "--limit", min=1, max=200, help="Videos to print."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Library videos that share pictures or people with VIDEO, ranked, with the shared moments."""
    from vidlens.cli.core import _video_from_ref

    platform = open_platform(data_dir, config)
    ref = _video_from_ref(platform, video, record=False)  # a file not in the library: analyse it first
    result = platform.service("search").similar(ref.id, limit=limit)
    if json_out:
        print_json(result)
        return
    if not result["videos"]:
        out.print("no similar videos found")
    for v in result["videos"]:
        typer.echo(f"{v['path']}  {v['score']:.3f}  {len(v['shared'])} shared moment(s)")


def recommend(
    user: str = typer.Option(..., "--user", help="The viewer, as your application names them."),
    limit: int = typer.Option(10, "--limit", min=1, max=200, help="Videos to print."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Videos for USER to watch next: what others who watched the same liked, similar content, popularity."""
    platform = open_platform(data_dir, config)
    result = platform.service("recommend").recommend(user, limit=limit)
    if json_out:
        print_json(result)
        return
    if result["cold_start"]:
        log.print(f"no events for {user} yet: the most watched videos")
    if not result["videos"]:
        out.print("nothing to recommend")
    for v in result["videos"]:
        why = ", ".join(b["signal"] + (f" ({b['video_id'][:8]})" if b.get("video_id") else "") for b in v["because"])
        typer.echo(f"{v['path']}  {v['score']:.3f}  {why}")


def event(
    video: str = typer.Argument(..., help="A library video id (or its first 8+ characters) or a file in the library."),
    kind: str = typer.Argument(..., help="play, like or skip."),
    user: str = typer.Option(..., "--user", help="The viewer, as your application names them."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Record that USER played, liked or skipped VIDEO (what recommendations learn from)."""
    from vidlens.cli.core import _video_from_ref

    platform = open_platform(data_dir, config)
    ref = _video_from_ref(platform, video, record=False)
    result = platform.service("recommend").record(user, ref.id, kind)
    if json_out:
        print_json(result)
        return
    log.print(f"recorded: {user} {kind} {ref.id[:12]}")
