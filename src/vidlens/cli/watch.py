"""Watch commands: run the cameras of a config, list their events, review one."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vidlens.cli.common import (ConfigOption, DataDirOption, JsonOption, echo, log, open_platform, print_json,
                                print_table)

if TYPE_CHECKING:
    from vidlens.watch.events import WatchEvents

watch_app = typer.Typer(help="Watch cameras: detection around motion, tracking, zones, line counts, alerts "
                             "and event clips (docs/watch.md).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(watch_app, name="watch")


def _events(data_dir: Path | None, config: Path | None) -> WatchEvents:
    return open_platform(data_dir, config).service("watch_events")  # type: ignore[no-any-return]


@watch_app.command("run")
def run(
    camera_config: Path = typer.Argument(..., metavar="CONFIG",
                                         help="YAML file with cameras: (and mqtt:, webhooks: ...), docs/watch.md."),
    until_eof: bool = typer.Option(False, "--until-eof", help="Cameras that read a local file stop at its end."),
    fast: bool = typer.Option(False, "--fast", help="Read local files as fast as they decode, not in real time."),
    duration: float | None = typer.Option(None, "--duration", min=0.1, help="Stop after this many seconds."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Watch every camera of CONFIG until stopped (Ctrl-C), or until their files end with --until-eof."""
    from vidlens.watch.alerts import messages
    from vidlens.watch.faces import KnownFaces, audit_sighting
    from vidlens.watch.settings import load_yaml
    from vidlens.watch.supervisor import Supervisor

    settings = load_yaml(camera_config)
    if not settings.cameras:
        log.print(f"{camera_config}: no cameras configured", highlight=False)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    platform = open_platform(data_dir, config)
    if settings.mqtt is None:  # the broker of the [watch] settings (VIDLENS_WATCH__MQTT__HOST: docker-compose.yml)
        settings = settings.model_copy(update={"mqtt": platform.settings.watch.mqtt})
    events = platform.service("watch_events")
    events.alerts = partial(messages, settings)
    events.audit = audit_sighting  # a watch-list face seen on a camera is written to the audit log
    humans = KnownFaces.from_registry(platform.service("humans"))  # registered digital humans, if any
    summary = Supervisor(settings, events, events.root, until_eof=until_eof, fast=fast,
                         face_matchers=(humans,) if humans else (),
                         watchlist=platform.service("watchlist")).run(duration)
    counts = {name: len(events.list(camera=name, limit=100000)) for name in summary}
    if json_out:
        print_json({"cameras": {name: {"state": s["state"], "restarts": s["restarts"], "frames": s["frames"],
                                       "detector_runs": s["detector_runs"], "events": counts[name]}
                                for name, s in summary.items()}})
        return
    print_table(["camera", "state", "frames", "detector_runs", "restarts", "events"],
                [[n, s["state"], s["frames"], s["detector_runs"], s["restarts"], counts[n]] for n, s in summary.items()])


@watch_app.command("events")
def list_events(
    camera: str | None = typer.Option(None, "--camera", help="Only this camera's events."),
    type_: str | None = typer.Option(None, "--type", help="Only this type: object, zone_enter, zone_exit, loiter, "
                                                          "line_cross, watchlist or camera_offline."),
    limit: int = typer.Option(1000, "--limit", min=1, max=100000, help="At most this many events, oldest first."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """List the stored events (times in seconds from the camera's stream start)."""
    found = _events(data_dir, config).list(camera=camera, type_=type_, limit=limit)
    if json_out:
        print_json({"events": found})
        return
    print_table(["id", "camera", "type", "label", "track", "start", "end", "where"],
                [[e["id"][:12], e["camera"], e["type"], e["label"], e["track_id"], f"{e['start']:.2f}",
                  "" if e["end"] is None else f"{e['end']:.2f}",
                  e["zone"] or (f"{e['line']} {e['direction']}" if e["line"] else "")] for e in found])


@watch_app.command("review")
def review(
    event_id: str = typer.Argument(..., help="The event's id (vidlens watch events)."),
    verdict: str = typer.Argument(..., help="acknowledged, false_positive or none (clears it)."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Mark an event as acknowledged or as a false positive."""
    ev = _events(data_dir, config).review(event_id, None if verdict == "none" else verdict)
    if json_out:
        print_json(ev)
    else:
        echo(f"{ev['id']} {ev['review'] or 'not reviewed'}")
