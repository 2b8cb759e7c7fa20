"""Export Resemblyzer's pretrained voice encoder to ONNX, once, for ``vidlens.models.speaker``.

Run in a throw-away environment (torch is never needed at run time)::

    python -m venv /path/to/convert-venv && . /path/to/convert-venv/bin/activate
    pip install torch==2.13.0 onnx onnxruntime==1.31.1 numpy librosa==0.11.0
    pip install --no-deps resemblyzer==0.1.4
    python scripts/export_resemblyzer.py [WAV...]

The graph takes ``spectra`` (batch, 160, 201): power spectra of 1.6 s partials, and multiplies them
by librosa's 40-band Slaney mel filterbank (an initializer, so the numbers are librosa's own) before
Resemblyzer's 3-layer LSTM, linear layer, ReLU and L2 normalisation. The export is checked against
Resemblyzer itself (its own ``preprocess``-free ``embed_utterance`` with librosa's mel) on the WAVs
given (default: the shared LibriVox clips): the largest difference is printed and must stay below
1e-4 in cosine.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "vidlens" / "models" / "data" / "resemblyzer-encoder.onnx"
sys.path.insert(0, str(ROOT / "src"))


def main(wavs: list[str]) -> int:
    import librosa
    import resemblyzer
    import torch
    from torch import nn

    from vidlens.models import speaker

    weights = Path(resemblyzer.__file__).with_name("pretrained.pt")
    state = torch.load(weights, map_location="cpu")["model_state"]
    mel = librosa.filters.mel(sr=speaker.RATE, n_fft=speaker.N_FFT, n_mels=40).astype(np.float32)  # (40, 201)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mel", torch.from_numpy(mel.T.copy()))  # (201, 40)
            self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)

        def forward(self, spectra: torch.Tensor) -> torch.Tensor:
            _, (hidden, _) = self.lstm(spectra @ self.mel)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / torch.linalg.vector_norm(raw, dim=1, keepdim=True).clamp_min(1e-12)

    model = Encoder().eval()
    missing = model.load_state_dict({k: v for k, v in state.items() if k.split(".")[0] in ("lstm", "linear")},
                                    strict=False)
    assert missing.missing_keys == ["mel"], missing
    dummy = torch.zeros(2, speaker.PARTIAL_FRAMES, speaker.N_FFT // 2 + 1)
    torch.onnx.export(model, dummy, str(OUT), opset_version=17, dynamo=False, input_names=["spectra"],
                      output_names=["embeddings"], dynamic_axes={"spectra": {0: "batch"}, "embeddings": {0: "batch"}})

    # the reference: Resemblyzer's own encoder and librosa's mel spectrogram, on the same partials
    ref = resemblyzer.VoiceEncoder("cpu", verbose=False)
    enc = speaker.SpeakerEncoder(OUT)
    worst = 0.0
    for path in wavs:
        wav, _ = librosa.load(path, sr=speaker.RATE)
        wav = speaker.normalise_volume(wav.astype(np.float32))
        ours = enc.embed(wav)
        theirs = ref.embed_utterance(wav)
        cos = float(np.dot(ours, theirs))
        worst = max(worst, 1 - cos)
        print(f"{Path(path).name}: cosine to Resemblyzer {cos:.6f}")
    print(f"worst 1 - cosine: {worst:.2e}; sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}; "
          f"{OUT.stat().st_size} bytes")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    media = Path(ROOT.parent / "shared" / "media" / "speech")
    sys.exit(main(sys.argv[1:] or sorted(str(p) for p in media.glob("librivox_*.wav"))))
