"""Real speech clips: their audio (16 kHz mono float32) and landmark tracks (cached).

Landmarks come from the motion library when it holds the clip, otherwise from the repository's
extractor (`avatar_ml.landmarks`, VIDEO mode with the browser's smoothing), cached under
`.data/audio/landmarks/<clip>.npz` keyed by the clip's sha256.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import sha256_file
from ..landmarks.track_io import LandmarkTrack, load_track
from .model import SAMPLE_RATE

REPO_ROOT = Path(__file__).resolve().parents[3]
MEDIA = (REPO_ROOT / ".." / "shared" / "media").resolve()
MOTION_LIBRARY = REPO_ROOT / "models" / "motion_library"
CACHE = REPO_ROOT / ".data" / "audio"

# Clips whose audio track is the visible speaker's speech (checked: see models/README.md,
# "Audio to mouth"; d10/d12/d14 were checked and rejected there).
SPEECH_CLIPS = (
    MEDIA / "WDA_KatieHill_000.mp4",
    MEDIA / "speech" / "RD_Radio2_000.mp4",
    MEDIA / "speech" / "RD_Radio34_000.mp4",
    MEDIA / "speech" / "WDA_BobMenendez_000.mp4",
)


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Any media file's first audio stream -> (N,) float32 mono at `sample_rate` (ffmpeg)."""
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vn", "-ac", "1", "-ar", str(sample_rate),
           "-f", "f32le", "-"]
    res = subprocess.run(cmd, capture_output=True)
    if res.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode the audio of {path}: {res.stderr.decode()[-400:]}")
    return np.frombuffer(res.stdout, np.float32).copy()


def landmark_track(clip: str | Path) -> LandmarkTrack:
    """The clip's landmark track (motion library, else extracted once and cached)."""
    clip = Path(clip)
    lib = MOTION_LIBRARY / (clip.stem + ".npz")
    sha = sha256_file(clip)
    if lib.exists():
        index = json.loads((MOTION_LIBRARY / "index.json").read_text())
        if any(e["clip"] == clip.name and e["sha256"] == sha for e in index["clips"]):
            return load_track(lib)
    cached = CACHE / "landmarks" / f"{clip.stem}-{sha[:12]}.npz"
    if cached.exists():
        return load_track(cached)
    from ..landmarks.extractor import FaceLandmarkExtractor
    from ..landmarks.video_io import probe, read_frames

    info = probe(clip)
    track = FaceLandmarkExtractor().track(read_frames(clip), info.fps, source=clip.name, smooth=True)
    track.meta.update({"sha256": sha, "source_file": clip.name})
    cached.parent.mkdir(parents=True, exist_ok=True)
    track.save_track(cached, quantize=True)
    return track


@dataclass
class SpeechClip:
    name: str
    path: Path
    sha256: str
    audio: np.ndarray  # (N,) float32, 16 kHz mono
    track: LandmarkTrack


def load_clip(path: str | Path) -> SpeechClip:
    path = Path(path)
    return SpeechClip(path.stem, path, sha256_file(path), load_audio(path), landmark_track(path))


def main() -> None:
    """Extracts (caches) the landmarks of every speech clip: `python -m avatar_ml.audio.clips`."""
    for c in SPEECH_CLIPS:
        t = landmark_track(c)
        print(f"{c.name}: {len(t)} frames, {int(t.valid.sum())} with a face", flush=True)


if __name__ == "__main__":
    main()
