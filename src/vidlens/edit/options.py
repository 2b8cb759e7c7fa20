"""The request model of an edit job (HTTP API and job payload), turned into ``EditOptions`` with the settings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vidlens.edit.service import EditOptions
from vidlens.edit.settings import EditSettings
from vidlens.edit.silence import SilenceSettings
from vidlens.errors import UsageError


class SilenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the schema says: no "1" for 1
    threshold: float = Field(0.04, gt=0, lt=1, description="Level below this share of the peak is silence.")
    margin_s: float = Field(0.2, ge=0, le=5, description="Seconds kept before and after sound.")
    min_clip_s: float = Field(0.12, ge=0, le=10, description="Shorter sounds count as silence.")
    min_cut_s: float = Field(0.24, ge=0, le=10, description="Shorter pauses are kept.")
    quiet_speed: float = Field(0.0, ge=0, le=16, description="Keep quiet parts at this speed (> 1) instead of cutting.")


class EditRequest(BaseModel):
    """One edit of a library video; every option is optional and they combine in one render."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the schema says: no "1" for 1
    video_id: str = Field(..., min_length=1, max_length=128, description="The library video to edit.")
    silence: SilenceRequest | None = None
    highlights_s: float | None = Field(None, gt=0, le=36000, description="A highlight reel of this length.")
    transitions: bool = Field(True, description="Highlights: dissolve where the reel joins moments jarringly.")
    reframe: Literal["9:16", "1:1", "4:5"] | None = None
    subtitles: Literal["burn", "vtt", "srt"] | None = None
    loudness_lufs: float | None = Field(None, ge=-70, le=-5, description="EBU R128 target; default [edit].")
    keep_level: bool = Field(False, description="Leave the audio level as it is.")
    dub: str | None = Field(None, pattern=r"^[a-zA-Z]{2,3}$", description="Dub the speech into this language.")
    lip_sync: bool = Field(False, description="With dub: the speaking face's mouth follows the new speech's "
                                              "phonemes (the rest of the picture is left as decoded).")
    face_index: int | None = Field(None, ge=0, le=31, description="With lip_sync: move this face (0 = largest) "
                                                                  "instead of the one found speaking.")
    export: list[Literal["otio", "fcpxml", "edl"]] = Field(default_factory=list)

    def options(self, ours: EditSettings) -> EditOptions:
        if self.lip_sync and self.dub is None:
            raise UsageError("lip_sync moves the mouth to dubbed speech: ask for a dub too")
        if self.face_index is not None and not self.lip_sync:
            raise UsageError("face_index chooses the face to lip sync: ask for lip_sync too")
        s = self.silence
        return EditOptions(
            silence=SilenceSettings(s.threshold, s.margin_s, s.min_clip_s, s.min_cut_s, s.quiet_speed) if s else None,
            highlights_s=self.highlights_s, transitions=self.transitions, reframe=self.reframe,
            subtitles=self.subtitles,
            loudness_lufs=None if self.keep_level else self.loudness_lufs if self.loudness_lufs is not None
            else ours.loudness_lufs,
            export=tuple(self.export), producer=ours.producer, crf=ours.crf, preset=ours.preset,
            dub=self.dub.lower() if self.dub else None, dub_voice=ours.dub_voice,
            dub_translator=ours.dub_translator, dub_max_tempo=ours.dub_max_tempo, dub_duck_db=ours.dub_duck_db,
            dub_notice=ours.dub_notice, dub_voices=dict(ours.dub_voices), explicit_label=ours.explicit_label,
            lip_sync=self.lip_sync, face_index=self.face_index)

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
