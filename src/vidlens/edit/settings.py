"""Edit settings (``[edit]`` in vidlens.toml, ``VIDLENS_EDIT__*`` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    producer: str = Field("VidLens", description="ContentProducer written into the GB 45438 implicit label of "
                                                 "every edited output (a name or a TC260 provider code).")
    loudness_lufs: float = Field(-14.0, ge=-70, le=-5, description="EBU R128 programme loudness of edited "
                                                                   "outputs unless --loudness says otherwise.")
    crf: int = Field(20, ge=0, le=51, description="x264 CRF of edited outputs.")
    preset: str = Field("veryfast", description="x264 preset of edited outputs.")
