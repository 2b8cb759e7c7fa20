"""The presenter page through the real app: pick a human or upload a portrait, type a script, follow the
queued render, watch the result, download it with its certificate; bad input re-shows the form with the
reason and queues nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.test_api_security import login
from vidlens.humans import certificate as certs
from vidlens.identity import CertificateError
from vidlens.media.ffmpeg import run_ffmpeg


@pytest.fixture(scope="module")
def portraits(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ui-presenter")
    face, scenery = d / "face.jpg", d / "scenery.png"
    run_ffmpeg(["-ss", "1.0", "-i", str(samples / "bbaf2n.mpg"), "-frames:v", "1", str(face)])
    run_ffmpeg(["-ss", "5", "-i", str(samples / "blender_caminandes_10s.mp4"), "-frames:v", "1", str(scenery)])
    return {"face": face, "scenery": scenery}


def post(env, token: str, portrait: Path, **fields: str):
    with portrait.open("rb") as f:
        return env.client.post("/humans/presenter", data={"csrf_token": token, "size": "720x720", **fields},
                               files={"portrait": (portrait.name, f, "image/jpeg")}, follow_redirects=False)


@pytest.mark.timeout(900)  # the video is rendered for real by the job worker
def test_make_watch_and_download_with_certificate(env, portraits: dict[str, Path]) -> None:
    token = login(env)
    form = env.client.get("/humans/presenter")
    assert form.status_code == 200 and 'id="presenter-form"' in form.text
    r = post(env, token, portraits["face"], text="Welcome to the programme.")
    assert r.status_code == 303, r.text
    job_page = r.headers["location"]
    job_id = int(job_page.rsplit("/", 1)[1])
    assert job_page == f"/humans/presenter/jobs/{job_id}"
    waiting = env.client.get(job_page, follow_redirects=False)  # queued: the page shows the progress
    assert waiting.status_code == 200 and 'id="presenter-progress"' in waiting.text
    assert 'data-status="queued"' in waiting.text and "presenter.js" in waiting.text
    assert env.run_jobs() >= 1
    job = env.client.get(f"/api/jobs/{job_id}").json()
    assert job["kind"] == "speak" and job["status"] == "succeeded" and job["progress"] == 1.0, job
    done = env.client.get(job_page, follow_redirects=False)  # made: the page is the video's
    assert done.status_code == 303
    seq = int(done.headers["location"].rsplit("/", 1)[1])
    assert seq == job["result"]["ledger_seq"]
    uploads = Path(env.platform.settings.data_dir) / "presenters" / "uploads"
    assert not list(uploads.iterdir())  # the portrait waited for its job only
    page = env.client.get(f"/humans/presenter/{seq}")
    assert page.status_code == 200
    watermark = re.search(r'<code id="watermark">([0-9a-f]{16})</code>', page.text).group(1)
    video = env.client.get(f"/humans/presenter/{seq}/video?download=true")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert "attachment" in video.headers["content-disposition"] and video.content[4:8] == b"ftyp"
    cert = env.client.get(f"/humans/presenter/{seq}/certificate")
    assert cert.status_code == 200
    body = certs.verify(cert.json(), env.platform.service("humans").identity.public_key, formats=(certs.USE_FORMAT,))
    assert body["watermark"] == watermark and body["ledger_seq"] == seq and body["human"] is None
    tampered = cert.json()
    tampered["payload"]["watermark"] = "0" * 16
    with pytest.raises(CertificateError):
        certs.verify(tampered, env.platform.service("humans").identity.public_key, formats=(certs.USE_FORMAT,))


def test_bad_input_shows_the_form_again_with_the_reason_and_keeps_nothing(env, portraits: dict[str, Path]) -> None:
    token = login(env)
    r = post(env, token, portraits["scenery"], text="Hello there.")
    assert r.status_code == 400 and "no face found in the portrait" in r.text and "Hello there." in r.text
    r = post(env, token, portraits["face"], text="   ")
    assert r.status_code == 400 and "the script is empty" in r.text
    kept = Path(env.platform.settings.data_dir) / "presenters"
    assert not [p for p in kept.rglob("*") if p.is_file()]
    assert not [j for j in env.platform.jobs.list() if j.kind == "speak"]


def test_a_render_that_fails_shows_why(env, portraits: dict[str, Path]) -> None:
    from vidlens.humans.presenter.service import SpeakRequest

    login(env)
    req = SpeakRequest(portrait=Path("gone.png"), text="Hello.", size=(256, 448))
    job = env.platform.jobs.enqueue("speak", req.to_payload("gone.png"))  # its portrait is not there
    env.run_jobs()
    page = env.client.get(f"/humans/presenter/jobs/{job.id}", follow_redirects=False)
    assert page.status_code == 200 and 'data-status="failed"' in page.text and "no longer on this server" in page.text


def test_viewers_cannot_make_presenters(env) -> None:
    token = login(env, "viewer")
    assert env.client.get("/humans/presenter", follow_redirects=False).status_code == 403
    r = env.client.post("/humans/presenter", data={"csrf_token": token, "text": "x"}, follow_redirects=False)
    assert r.status_code == 403
