from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.analyze.subtitles import cues, to_srt, to_webvtt
from vidlens.errors import UsageError

SEGS = [
    {"text": "second <b>bold</b> & more", "start_s": 3723.5, "end_s": 3725.0},
    {"text": "  first line\nwrapped  ", "start_s": 0.0, "end_s": 1.2345},
]


def test_vtt_header_times_order_and_escaping() -> None:
    vtt = to_webvtt(SEGS)
    assert vtt.startswith("WEBVTT\n\n")
    blocks = vtt.strip().split("\n\n")[1:]
    assert blocks[0] == "00:00:00.000 --> 00:00:01.234\nfirst line wrapped"
    assert blocks[1] == "01:02:03.500 --> 01:02:05.000\nsecond &lt;b&gt;bold&lt;/b&gt; &amp; more"


def test_srt_numbering_comma_times_and_arrow_in_text() -> None:
    srt = to_srt([*SEGS, {"text": "a --> b", "start_s": 5, "end_s": 6}])
    blocks = srt.strip().split("\n\n")
    assert blocks[0] == "1\n00:00:00.000 --> 00:00:01.234".replace(".", ",") + "\nfirst line wrapped"
    assert blocks[1].splitlines()[:2] == ["2", "00:00:05,000 --> 00:00:06,000"]
    assert "-->" not in blocks[1].splitlines()[2]
    assert blocks[2].splitlines()[2] == "second <b>bold</b> & more"  # SRT players render simple tags


def test_empty_cues_are_dropped_and_a_short_one_lasts_a_second() -> None:
    vtt = to_webvtt([{"text": "   ", "start_s": 0, "end_s": 1}, {"text": "x", "start_s": 2, "end_s": 2}])
    assert vtt.count("-->") == 1 and "00:00:02.000 --> 00:00:03.000" in vtt
    assert to_srt([]) == "" and to_webvtt([]) == "WEBVTT\n"


@pytest.mark.parametrize("seg", [{"text": "x", "start_s": 2, "end_s": 1}, {"text": "x", "start_s": "a", "end_s": 1},
                                 {"start_s": 0, "end_s": 1}])
def test_bad_segments_raise_usage_error(seg: dict) -> None:
    with pytest.raises(UsageError, match="segment 0"):
        to_webvtt([seg])


def _check_guidelines(cs: list, cjk: bool = False) -> None:
    """Two lines at most, each within the line length, 1 to 7 s on screen, in order, never overlapping."""
    limit = 16 if cjk else 42
    for c in cs:
        assert 1 <= len(c.lines) <= 2 and all(len(line) <= limit for line in c.lines), c
        assert 1.0 - 1e-6 <= c.end_s - c.start_s <= 7.0 + 1e-6, c
    assert all(a.end_s <= b.start_s for a, b in zip(cs, cs[1:]))


def _timed_words(text: str, start: float, per: float, pause_after: dict[int, float] | None = None) -> list[dict]:
    """Per-character (CJK) word timings, ``per`` seconds each, with pauses after given indexes."""
    words, t = [], start
    for i, ch in enumerate(text):
        words.append({"word": ch, "start_s": round(t, 3), "end_s": round(t + per, 3)})
        t += per + (pause_after or {}).get(i, 0.0)
    return words


def test_cjk_cues_break_at_the_sentence_and_the_pause_with_16_characters_a_line() -> None:
    # 31 + 12 characters, 0.25 s each: the first sentence is 7.75 s, too long for one cue; a 0.6 s pause
    # after the 14th character is where it breaks; the second sentence is a cue of its own
    first, second = "我们今天来讨论一下视频理解的最新进展以及它在安防领域中的应用。", "接下来请大家看这个例子。"
    words = _timed_words(first + second, 3.0, 0.25, {13: 0.6})
    seg = {"text": first + second, "start_s": 3.0, "end_s": words[-1]["end_s"], "language": "zh", "words": words}
    cs = cues([seg])
    _check_guidelines(cs, cjk=True)
    assert ["".join(c.lines) for c in cs] == [first[:14], first[14:], second]
    assert cs[0].start_s == 3.0 and cs[1].start_s == words[14]["start_s"] and cs[2].end_s == words[-1]["end_s"]
    assert to_webvtt([seg]).count("-->") == 3


def test_a_long_latin_segment_without_word_times_is_split_by_sentence_and_length() -> None:
    # the shape that motivated this: one 10 s, 104-character cue
    text = ("Had he married a more amiable woman, he might have been made still more respectable than he was. "
            "He might")
    cs = cues([{"text": text, "start_s": 12.0, "end_s": 22.0}])
    _check_guidelines(cs)
    assert len(cs) >= 2 and " ".join(" ".join(c.lines) for c in cs) == text
    assert any(c.lines[-1].endswith("than he was.") for c in cs)  # the sentence ends a cue


def test_abbreviations_do_not_end_sentences_and_text_spacing_is_kept() -> None:
    words = [("Mr.", 0.0, 0.3), ("John", 0.35, 0.6), ("Dashwood", 0.6, 1.0), ("is", 1.0, 1.2), ("old", 1.2, 1.5),
             ("-fashioned.", 1.5, 2.0), ("Yes.", 4.0, 4.2)]
    seg = {"text": "Mr. John Dashwood is old-fashioned. Yes.", "start_s": 0.0, "end_s": 4.2,
           "words": [{"word": w, "start_s": s, "end_s": e} for w, s, e in words]}
    cs = cues([seg])
    assert [c.lines for c in cs] == [("Mr. John Dashwood is old-fashioned.",), ("Yes.",)]
    assert (cs[1].start_s, cs[1].end_s) == (4.0, 5.0)  # a 0.2 s word stays a second


def test_a_cue_too_short_to_read_joins_the_next_when_there_is_no_room() -> None:
    words = [("No.", 0.0, 0.3), ("I", 0.4, 0.5), ("said", 0.5, 0.8), ("no.", 0.8, 1.4)]
    seg = {"text": "No. I said no.", "start_s": 0.0, "end_s": 1.4,
           "words": [{"word": w, "start_s": s, "end_s": e} for w, s, e in words]}
    assert [(c.start_s, c.end_s, c.lines) for c in cues([seg])] == [(0.0, 1.4, ("No. I said no.",))]


@pytest.fixture(scope="module")
def read_aloud(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five LibriVox sentences read on, 0.3 s apart: Whisper hears them as long segments."""
    from vidlens.media.ffmpeg import run_ffmpeg

    clips = sorted((shared_media / "speech").glob("librivox_sense_and_sensibility_*.wav"))
    assert len(clips) == 5
    out = tmp_path_factory.mktemp("read-aloud") / "read_aloud.wav"
    pads = "".join(f"[{i}:a]aresample=16000,apad=pad_dur=0.3[a{i}];" for i in range(len(clips)))
    run_ffmpeg(["-y", *[a for c in clips for a in ("-i", str(c))], "-filter_complex",
                pads + "".join(f"[a{i}]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=0:a=1", str(out)])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["read_aloud", "whisper_jfk.flac"])
def test_cues_of_real_speech_follow_the_guidelines(request: pytest.FixtureRequest, shared_media: Path,
                                                   cache_env: Path, clip: str) -> None:
    from vidlens.analyze.builtin.speech import SpeechAnalyzer
    from vidlens.analyze.subtitles import Word

    from .conftest import run_analyzer

    path = request.getfixturevalue("read_aloud") if clip == "read_aloud" else shared_media / "speech" / clip
    transcript = run_analyzer(SpeechAnalyzer(), path)["transcript"]
    assert transcript and all(seg["words"] for seg in transcript)
    for seg in transcript:
        assert all(seg["start_s"] - 0.05 <= w["start_s"] <= w["end_s"] <= seg["end_s"] + 0.05 for w in seg["words"])
    # the input is what subtitles must not be: a segment too long for one cue
    assert any(len(s["text"]) > 2 * 42 or s["end_s"] - s["start_s"] > 7 for s in transcript)
    cs = cues(transcript)
    _check_guidelines(cs)
    said = " ".join(s["text"] for s in transcript).split()
    assert " ".join(line for c in cs for line in c.lines).split() == said  # every word, once, in order
    line_ends = {c.lines[-1] for c in cs} | {line for c in cs for line in c.lines}
    sentence_ends = [w["word"] for s in transcript for w in s["words"] if Word(w["word"], 0, 0).ends_sentence]
    assert sentence_ends and all(any(end.endswith(w) for end in line_ends) for w in sentence_ends)
