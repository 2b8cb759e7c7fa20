"""A face that stays on screen is embedded once per ``max_age_s``, the embedding it keeps is still its own,
and a cut to another person at the same place is embedded anew."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.tracking import iou_matrix
from vidlens.humans.embedders import Embedders
from vidlens.humans.face_tracks import FaceTracks
from vidlens.humans.settings import HumansSettings
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe

STEP_S = 0.5
KEPT_IS_OWN = 0.85  # cosine of a sample's own embedding to the kept one: measured 0.912-1.000 on the GRID clip


@pytest.fixture(scope="module")
def emb() -> Embedders:
    return Embedders(HumansSettings())


def frames(path: Path) -> list[np.ndarray]:
    return [fs.image for fs in iter_frames(probe(path), Sampling(fps=1 / STEP_S, max_side=640, pix_fmt="bgr24"))]


def track(emb: Embedders, images: list[np.ndarray], max_age_s: float) -> tuple[FaceTracks, list[list]]:
    tracks = FaceTracks(emb, max_age_s)
    return tracks, [tracks.find(img, i * STEP_S, 32, 320) for i, img in enumerate(images)]


def test_a_face_on_screen_is_embedded_once_and_keeps_an_embedding_of_its_own(emb: Embedders, person: Path) -> None:
    images = frames(person)
    tracks, found = track(emb, images, 4.0)
    assert len(images) == 6 and all(len(f) == 1 for f in found)
    assert (tracks.embedded, tracks.reused) == (1, 5)
    own = [emb.find_faces(img, 32, 320)[0].embedding for img in images]
    assert min(float(own[i] @ found[i][0].embedding) for i in range(len(images))) >= KEPT_IS_OWN


def test_an_embedding_is_renewed_once_it_is_max_age_old_and_zero_renews_every_sample(emb: Embedders,
                                                                                      person: Path) -> None:
    images = frames(person)
    assert track(emb, images, 1.0)[0].embedded == 3  # at 0, 1 and 2 s
    tracks, _ = track(emb, images, 0.0)
    assert (tracks.embedded, tracks.reused) == (6, 0)


@pytest.mark.slow
def test_a_cut_to_another_person_at_the_same_place_is_embedded_anew(emb: Embedders, person: Path,
                                                                   shared_media: Path) -> None:
    one, other = frames(person)[0], frames(shared_media / "av_speech_grid" / "brbk7n.mpg")[0]
    a, b = emb.detect_faces(one, 32, 320)[0], emb.detect_faces(other, 32, 320)[0]
    box = lambda f: tuple(float(v) for v in f.xyxy)  # noqa: E731
    assert iou_matrix(np.array([box(a)]), np.array([box(b)]))[0, 0] >= 0.5 and abs(b.size / a.size - 1) <= 0.25  # only the look tells them apart
    tracks, found = track(emb, [one, other], 4.0)
    assert (tracks.embedded, tracks.reused) == (2, 0)
    assert float(found[0][0].embedding @ found[1][0].embedding) < emb.settings.face_threshold
