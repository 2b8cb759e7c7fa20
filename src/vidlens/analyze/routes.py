"""The people gallery over HTTP: identities across the library, naming, merging and splitting them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.bounds import INT64_MAX, BodyId
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors

router = APIRouter(tags=["people"])
PersonId = Path(..., ge=1, le=INT64_MAX, description="Identity id (a person across the library)")
NOT_FOUND = errors(s404="No such person (or appearance)")
BAD = errors(s404="No such person (or appearance)", s400="Invalid request (name too long, nothing to merge)")


class Span(BaseModel):
    start_s: float
    end_s: float


class PersonSummary(BaseModel):
    id: int
    name: str | None = Field(description="Given by a person; null until named")
    videos: int = Field(description="Videos the person appears in")
    appearances: int
    screen_time_s: float
    thumbnail_blob: str | None = Field(description="Blob key of the best face (GET /api/blobs/{key})")


class Appearance(BaseModel):
    video_id: str
    person_id: str = Field(description="The person's id within that video's analysis")
    title: str
    pinned: bool = Field(description="Placed by a merge or split, not by similarity")
    similarity: float | None
    screen_time_s: float
    first_s: float | None
    best_t: float | None
    faces: int
    thumbnail_blob: str | None
    spans: list[Span]


class PersonDetail(BaseModel):
    id: int
    name: str | None
    thumbnail_blob: str | None
    appearances: list[Appearance]


class PeopleList(BaseModel):
    people: list[PersonSummary]


class Rename(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str | None = Field(..., max_length=255, description="The name; null or blank forgets it")


class Merge(BaseModel):
    model_config = ConfigDict(strict=True)

    others: list[BodyId] = Field(..., min_length=1, max_length=100, description="Identities that are this person")


class Split(BaseModel):
    model_config = ConfigDict(strict=True)

    video_id: str = Field(..., min_length=1, max_length=64)
    person_id: str = Field(..., min_length=1, max_length=64)


class InsightItem(BaseModel):
    start_s: float
    end_s: float
    text: str | None
    box: list[float] | None = Field(description="x1, y1, x2, y2 in pixels of the original picture")
    box_t: float | None = Field(description="When the box was seen (the best detection)")


class InsightLane(BaseModel):
    key: str
    title: str
    items: list[InsightItem]
    person_id: str | None = None
    thumbnail_blob: str | None = None
    named: bool | None = None
    kind: str | None = None


class InsightGroup(BaseModel):
    name: str = Field(description="people, labels, keywords, text or cues")
    lanes: list[InsightLane]


class Insights(BaseModel):
    video_id: str
    duration_s: float
    width: int | None
    height: int | None
    groups: list[InsightGroup]


class VideoPerson(BaseModel):
    person_id: str
    identity_id: int
    name: str | None


class VideoPeople(BaseModel):
    video_id: str
    people: list[VideoPerson]


@router.get("/api/people", response_model=PeopleList, summary="People across the library, most screen time first")
def list_people(
    q: str | None = Query(None, max_length=200, description="Substring of the name"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=INT64_MAX),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> PeopleList:
    return PeopleList(people=svc.platform.service("identities").list(q=q, limit=limit, offset=offset))


@router.get("/api/people/{identity_id}", response_model=PersonDetail, responses=NOT_FOUND,
            summary="One person: every appearance with its face, video and spans on screen")
def get_person(identity_id: int = PersonId, _: Principal = Viewer, svc: Services = Depends(services)) -> PersonDetail:
    return PersonDetail(**svc.platform.service("identities").get(identity_id))


@router.patch("/api/people/{identity_id}", response_model=PersonDetail, responses=BAD,
              summary="Name a person once: the name follows into every video and into search")
def rename_person(body: Rename, request: Request, identity_id: int = PersonId, _: Principal = Reviewer,
                  svc: Services = Depends(services)) -> PersonDetail:
    audit.note(request, "people.name", f"person:{identity_id}", name=body.name)
    return PersonDetail(**svc.platform.service("identities").rename(identity_id, body.name))


@router.post("/api/people/{identity_id}/merge", response_model=PersonDetail, responses=BAD,
             summary="Merge other people into this one (they are the same person)")
def merge_people(body: Merge, request: Request, identity_id: int = PersonId, _: Principal = Reviewer,
                 svc: Services = Depends(services)) -> PersonDetail:
    audit.note(request, "people.merge", f"person:{identity_id}", others=body.others)
    return PersonDetail(**svc.platform.service("identities").merge(identity_id, body.others))


@router.post("/api/people/{identity_id}/split", response_model=PersonDetail, status_code=201, responses=BAD,
             summary="Take one appearance out into a new person of its own")
def split_person(body: Split, request: Request, identity_id: int = PersonId, _: Principal = Reviewer,
                 svc: Services = Depends(services)) -> PersonDetail:
    audit.note(request, "people.split", f"person:{identity_id}", video_id=body.video_id, person_id=body.person_id)
    return PersonDetail(**svc.platform.service("identities").split(identity_id, body.video_id, body.person_id))


@router.get("/api/videos/{video_id}/insights", response_model=Insights, responses=NOT_FOUND,
            summary="Insights: one lane per person, label, keyword, text and cue, with boxes; names from the gallery")
def video_insights(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> Insights:
    from vidlens.analyze.views import insights

    video = svc.platform.catalog.get_video(video_id)
    doc = svc.platform.catalog.document(video.id) or {"video": {"duration_s": video.duration_s}}
    names = {k: v["name"] for k, v in svc.platform.service("identities").of_video(video.id).items()}
    return Insights(video_id=video.id, **insights(doc, names))


@router.get("/api/videos/{video_id}/people", response_model=VideoPeople, responses=NOT_FOUND,
            summary="The people of one video, each with the library-wide person it belongs to and its name")
def video_people(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> VideoPeople:
    video = svc.platform.catalog.get_video(video_id)
    found = svc.platform.service("identities").of_video(video.id)
    return VideoPeople(video_id=video.id, people=[VideoPerson(person_id=k, **v) for k, v in sorted(found.items())])
