"""Synthetic speech with phone timings: espeak-ng (libespeak-ng through ctypes, phoneme events)
and festival (segment times from the utterance). Both give (audio 16 kHz float32, phones) where a
phone is (name, start_s, end_s) in the synthesiser's own alphabet; `visemes.py` maps them.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# espeak_AUDIO_OUTPUT / events / parameters (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_CHARS_UTF8 = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class Synth:
    audio: np.ndarray  # (N,) float32 at `sample_rate`
    sample_rate: int
    phones: list[tuple[str, float, float]]  # (phone, start_s, end_s)
    engine: str
    voice: str


class Espeak:
    """libespeak-ng in-process. Not thread-safe (the library is global)."""

    def __init__(self):
        self._lib = ctypes.CDLL("libespeak-ng.so.1")
        self.sample_rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 200, None, _INITIALIZE_PHONEME_EVENTS)
        if self.sample_rate <= 0:
            raise RuntimeError("espeak_Initialize failed")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []

        def cb(wav, n, events):
            if n > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).astype(np.float32) / 32768.0)
            i = 0
            while events[i].type != _EVENT_LIST_TERMINATED:
                e = events[i]
                if e.type == _EVENT_PHONEME:
                    self._events.append((e.sample, bytes(e.id.string).split(b"\0")[0].decode("latin-1")))
                i += 1
            return 0

        self._cb = _CALLBACK(cb)
        self._lib.espeak_SetSynthCallback(self._cb)

    def synth(self, text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, pitch_range: int = 50) -> Synth:
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng voice {voice!r} not found")
        for p, v in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range), (_VOLUME, 100)):
            self._lib.espeak_SetParameter(p, v, 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        self._lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        end = len(audio) / self.sample_rate
        phones = []
        ev = sorted(self._events)
        for k, (sample, name) in enumerate(ev):
            t0 = sample / self.sample_rate
            t1 = ev[k + 1][0] / self.sample_rate if k + 1 < len(ev) else end
            if t1 > t0:
                phones.append((name, t0, t1))
        return Synth(audio, self.sample_rate, phones, "espeak-ng", f"{voice} r{rate} p{pitch}")


FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")


def festival_available() -> bool:
    return shutil.which("festival") is not None


def festival_synth(text: str, voice: str = "kal_diphone", stretch: float = 1.0) -> Synth:
    """festival: the utterance's segments (name, end time) and waveform."""
    with tempfile.TemporaryDirectory() as d:
        wav, segs = Path(d) / "u.wav", Path(d) / "u.segs"
        safe = text.replace("\\", " ").replace('"', " ")
        script = (f'(voice_{voice})\n(Parameter.set \'Duration_Stretch {stretch})\n'
                  f'(set! u (utt.synth (Utterance Text "{safe}")))\n'
                  f'(utt.save.wave u "{wav}" \'riff)\n(utt.save.segs u "{segs}")\n')
        res = subprocess.run(["festival", "--pipe"], input=script.encode(), capture_output=True, timeout=120)
        if not wav.exists() or not segs.exists():
            raise RuntimeError(f"festival failed ({voice}): {res.stderr.decode()[-300:]}")
        import soundfile as sf

        audio, sr = sf.read(wav, dtype="float32")
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        phones, prev = [], 0.0
        started = False
        for line in segs.read_text().splitlines():
            if line.strip() == "#":
                started = True
                continue
            parts = line.split()
            if not started or len(parts) < 3:
                continue
            end, name = float(parts[0]), parts[2]
            if end > prev:
                phones.append((name, prev, end))
            prev = end
        return Synth(audio, sr, phones, "festival", f"{voice} x{stretch:.2f}")
