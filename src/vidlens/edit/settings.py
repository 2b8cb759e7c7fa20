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
    dub_voice: str | None = Field(None, description="Your own Piper voice (.onnx, with its .onnx.json beside it) "
                                                    "for --dub in any language (overrides dub_voices).")
    dub_voices: dict[str, str] = Field(default_factory=dict, description=(
        "Voice per dub language, e.g. {de = \"/voices/de_DE-thorsten-medium.onnx\"} (a Piper .onnx with its "
        ".onnx.json beside it); adds to or replaces the built-in en (Piper joe) and zh (eSpeak NG) voices."))
    dub_translator: str | None = Field(None, description="'module:attribute' of a callable "
                                                         "translate(texts, source, target) -> texts, for --dub "
                                                         "targets other than English.")
    dub_max_tempo: float = Field(1.5, ge=1.0, le=2.0, description="Fastest a dubbed line is sped up to fit "
                                                                  "its original; longer speech is trimmed.")
    dub_duck_db: float = Field(-15.0, ge=-60, le=0, description="Gain of the original sound under dubbed speech.")
    dub_notice: str | None = Field(None, min_length=1,
                                   description="Spoken AI notice (GB 45438) added to dubbed outputs; default: "
                                               "the built-in one in the dub's language (en, zh).")
    explicit_label: str = Field("AI生成", min_length=1, description="Visible AI notice (GB 45438) drawn on the "
                                                                   "opening of dubbed outputs.")
