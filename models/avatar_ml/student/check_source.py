"""CLI: `python -m avatar_ml.student.check_source --source <file>`.

Prints exactly one JSON line on stdout (shared/src/student/sourceCheck.ts, `sourceCheckResultSchema`):
  {"ok":true,"kind":"portrait","width":600,"height":704,"durationS":null,"frames":1,"faceBox":{...},"rotation":0}
  {"ok":false,"code":"NO_FACE","message":"No face was found in the portrait s.jpg."}
Exit 0 when acceptable, 1 when refused, 2 on a crash (with a traceback on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def check(path: Path, extractor=None) -> dict:
    """The result line for one source (never raises SourceError)."""
    from .source import SourceError, check_faces, load_source, result_line

    try:
        src = load_source(path, max_seconds=2.0)  # the check needs the first frames only
        if extractor is None:
            from ..landmarks.extractor import FaceLandmarkExtractor

            extractor = FaceLandmarkExtractor(threads=1)
        face = check_faces(src, extractor)
        return result_line(src, face)
    except SourceError as e:
        return {"ok": False, "code": e.code, "message": e.message}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.student.check_source")
    p.add_argument("--source", required=True, type=Path, help="portrait (jpg/png) or clip (mp4/mov/webm)")
    a = p.parse_args(argv)
    try:
        line = check(a.source)
    except Exception:
        import traceback

        traceback.print_exc()
        return 2
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0 if line["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
