"""Digital-human settings (``[humans]`` in vidlens.toml, ``VIDLENS_HUMANS__*`` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Tuned by bench/bench_humans.py on half of the speakers, reported on the other half: docs/humans.md.
FACE_THRESHOLD = 0.625
VOICE_THRESHOLD = 0.702


class HumansSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    face_threshold: float = Field(
        FACE_THRESHOLD, gt=-1, lt=1,
        description="SFace cosine similarity from which a face is taken for a registered human "
                    "(calibrated false-accept/false-reject rates in docs/humans.md).")
    voice_threshold: float = Field(
        VOICE_THRESHOLD, gt=-1, lt=1,
        description="Speaker-embedding cosine similarity from which a voice is taken for a registered human "
                    "(equal error rate in docs/humans.md).")
    scan_fps: float = Field(
        1.0, gt=0, le=30, description="Frames a second searched for faces by a scan (a face must be seen in two "
                                      "samples, so on screen for about 2/scan_fps seconds, to be reported).")
    detect_side: int = Field(
        320, ge=160, le=1280, description="A scan looks for faces in frames scaled to this longer side, then embeds "
                                          "each from the 640-pixel frame (min_face_px is in that frame's pixels).")
    face_reembed_s: float = Field(
        4.0, ge=0, le=60, description="A face that stays on screen (same place, size and look from one sample to the "
                                      "next) keeps its embedding this long before a scan embeds it again; 0: every "
                                      "face of every sample is embedded.")
    skip_deblocking: bool = Field(
        True, description="A scan decodes H.264/HEVC without the deblocking filter (less decode work); faces are "
                          "searched in downscaled frames, where the blocking hardly shows (docs/benchmarks.md).")
    min_face_px: int = Field(32, ge=16, description="Smallest face side (pixels of the searched frame) a scan compares.")
    sample_min_face_px: int = Field(
        48, ge=24, description="Smallest face side a registration sample may have: smaller faces make weak templates.")
    min_speech_s: float = Field(1.5, gt=0, description="Speech a voice sample must hold, after silence is cut.")
    voice_window_s: float = Field(3.0, ge=1.6, le=30, description="Length of the speech windows a scan embeds.")
    detector_model: str | None = Field(None, description="Own YuNet-compatible face detector (ONNX file).")
    recognizer_model: str | None = Field(None, description="Own SFace-compatible face recognizer (ONNX file).")
    deepfake_model: str | None = Field(
        None, description="Own face-swap detector (ONNX: 112x112 RGB face crops in [0, 1], NCHW; first output a "
                          "score), reported as detector_score among the synthesis cues.")
    voice_model: str | None = Field(
        None, description="Own speaker encoder (ONNX file with the input and output of resemblyzer-encoder.onnx).")
