"""Run every fuzz target for a bounded time, seeded with valid labelled files of each format.

``python fuzz/run_all.py --seconds 20`` gives each target 20 s; exit status 1 if any
target found a crash (its reproducer is kept under ``--artifacts``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def seed(corpus: Path, name: str) -> None:
    """Seed files: the codec's own examples, unlabelled and labelled."""
    from vidlens.govern.codecs import codecs
    from vidlens.govern.implicit import write_label
    from vidlens.govern.label import new_label

    corpus.mkdir(parents=True, exist_ok=True)
    label = new_label("1", "001191110102MAD55U9H0F10002", "fuzz-seed")
    if name == "label-json":
        (corpus / "bare.json").write_text(label.to_json())
        (corpus / "wrapped.json").write_text('{"AIGC": ' + label.to_json() + "}")
        return
    codec = next(c for c in codecs() if c.name == name)
    with tempfile.TemporaryDirectory() as tmp:
        for path in codec.examples(Path(tmp)):
            shutil.copy(path, corpus / path.name)
            write_label(path, corpus / f"labelled{path.suffix}", label)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="time per target")
    parser.add_argument("--only", nargs="*", help="target names (default: all)")
    parser.add_argument("--artifacts", type=Path, default=Path("test-artifacts/fuzz"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from targets import targets

    names = args.only or sorted(targets())
    failed = []
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            seed(corpus, name)
            artifacts = args.artifacts / name
            artifacts.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, str(HERE / "fuzz_one.py"), name, f"-max_total_time={args.seconds}",
                   "-rss_limit_mb=2048", "-timeout=10", f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
                   str(corpus)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            stats = [line for line in proc.stderr.splitlines() if line.startswith(("stat::number_of_executed_runs",
                                                                                    "Done", "==", "ERROR"))]
            status = "ok" if proc.returncode == 0 else f"CRASH (exit {proc.returncode})"
            print(f"{name:16} {status:18} {' '.join(stats[:2])}", flush=True)
            if proc.returncode != 0:
                failed.append(name)
                print(proc.stderr[-3000:], file=sys.stderr)
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
