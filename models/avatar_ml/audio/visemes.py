"""Phones -> mouth shapes for synthetic speech, with coarticulation.

Each phone (espeak-ng's or festival's alphabet) maps to a viseme class. A class's mouth shape is
taken from real clips, not drawn by hand: every frame of the given tracks becomes a canonical
mouth displacement from its clip's closed-mouth rest shape, with two per-clip quantiles (lip
opening, mouth width); a class names the quantiles it wants (e.g. bilabials: opening at the
clip's minimum; rounded vowels: narrowest width) and its shape is the mean displacement of the
real frames nearest to them. Coarticulation follows Cohen & Massaro's dominance model: each
phone's target spreads with exp(-|t - centre| / tau) weighted by its class's dominance (lips
closing for /p b m/ dominate, alveolars barely do), and the mouth at t is the normalised blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mouth_space import mouth_region, opening, to_canonical, to_pixels
from ..landmarks.track_io import LandmarkTrack

# class: (opening quantile, width quantile, dominance)
VISEME_CLASSES: dict[str, tuple[float, float, float]] = {
    "rest": (0.03, 0.5, 0.5),
    "bilabial": (0.0, 0.35, 1.0),
    "labiodental": (0.12, 0.5, 0.9),
    "dental": (0.35, 0.55, 0.35),
    "alveolar": (0.3, 0.55, 0.3),
    "postalveolar": (0.3, 0.1, 0.7),
    "velar": (0.45, 0.5, 0.2),
    "rounded": (0.35, 0.03, 0.75),
    "open": (0.95, 0.6, 0.55),
    "open_rounded": (0.8, 0.2, 0.55),
    "mid": (0.65, 0.6, 0.45),
    "spread": (0.45, 0.95, 0.5),
}

_ESPEAK = {
    "p": "bilabial", "b": "bilabial", "m": "bilabial",
    "f": "labiodental", "v": "labiodental",
    "T": "dental", "D": "dental",
    "t": "alveolar", "d": "alveolar", "n": "alveolar", "s": "alveolar", "z": "alveolar", "l": "alveolar",
    "t#": "alveolar", "d#": "alveolar", "n-": "alveolar", "l-": "alveolar", "*": "alveolar", "?": "velar",
    "S": "postalveolar", "Z": "postalveolar", "tS": "postalveolar", "dZ": "postalveolar",
    "k": "velar", "g": "velar", "N": "velar", "h": "velar", "x": "velar", "j": "spread",
    "w": "rounded", "r": "rounded", "r-": "rounded", "u:": "rounded", "U": "rounded", "oU": "open_rounded",
    "O:": "open_rounded", "O": "open_rounded", "OI": "open_rounded", "aU": "open", "0": "open_rounded",
    "a": "open", "a#": "mid", "A:": "open", "A@": "open", "aI": "open", "aI@": "open", "aU@": "open",
    "V": "mid", "@": "mid", "@-": "mid", "3:": "mid", "3": "mid", "E": "mid", "e@": "mid", "@L": "mid",
    "i": "spread", "i:": "spread", "I": "spread", "I2": "spread", "I#": "spread", "eI": "spread", "i@": "spread",
    "i@3": "spread", "U@": "rounded", "O@": "open_rounded", "o@": "open_rounded",
    "_": "rest", "_:": "rest", "_!": "rest", ";": "rest", "||": "rest",
}
_FESTIVAL = {
    "pau": "rest", "h#": "rest", "brth": "rest",
    "p": "bilabial", "b": "bilabial", "m": "bilabial", "em": "bilabial",
    "f": "labiodental", "v": "labiodental", "th": "dental", "dh": "dental",
    "t": "alveolar", "d": "alveolar", "n": "alveolar", "en": "alveolar", "s": "alveolar", "z": "alveolar",
    "l": "alveolar", "el": "alveolar", "dx": "alveolar",
    "sh": "postalveolar", "zh": "postalveolar", "ch": "postalveolar", "jh": "postalveolar",
    "k": "velar", "g": "velar", "ng": "velar", "hh": "velar", "y": "spread",
    "w": "rounded", "r": "rounded", "er": "rounded", "uw": "rounded", "uh": "rounded",
    "ow": "open_rounded", "ao": "open_rounded", "oy": "open_rounded",
    "aa": "open", "ae": "open", "aw": "open", "ay": "open", "ah": "mid", "ax": "mid", "eh": "mid",
    "iy": "spread", "ih": "spread", "ey": "spread",
}


def viseme_of(phone: str, engine: str) -> str:
    table = _FESTIVAL if engine == "festival" else _ESPEAK
    if phone in table:
        return table[phone]
    stripped = phone.rstrip("0123456789:#-;")
    if stripped in table:
        return table[stripped]
    if engine != "festival" and phone[:1] in "aeiouAEIOU@V03":
        return "mid"
    return "alveolar"


def clip_mouth_frames(track: LandmarkTrack) -> tuple[np.ndarray, np.ndarray]:
    """-> (canonical region shapes (T,R,3) of valid frames, rest shape (R,3)): the rest is the mean of
    the 10% most closed frames."""
    lm = track.landmarks[track.valid]
    shape, _ = to_canonical(to_pixels(lm, track.width, track.height))
    region = shape[:, mouth_region()]
    op = opening(shape)
    rest = region[op <= np.quantile(op, 0.1)].mean(axis=0)
    return region.astype(np.float32), rest.astype(np.float32)


def _quantiles(x: np.ndarray) -> np.ndarray:
    order = np.argsort(np.argsort(x))
    return order / max(1, len(x) - 1)


@dataclass
class VisemeBank:
    shapes: dict[str, np.ndarray]  # class -> (R,3) displacement from rest, canonical cm
    sources: list[str]


def build_viseme_bank(tracks: list[LandmarkTrack], neighbours: float = 0.06) -> VisemeBank:
    deltas, q_open, q_width = [], [], []
    for tr in tracks:
        region, rest = clip_mouth_frames(tr)
        full = np.zeros((len(region), 478, 3))
        full[:, mouth_region()] = region
        deltas.append(region - rest)
        q_open.append(_quantiles(opening(full)))
        w = np.linalg.norm(full[:, 308, :2] - full[:, 78, :2], axis=-1)
        q_width.append(_quantiles(w))
    d, qo, qw = np.concatenate(deltas), np.concatenate(q_open), np.concatenate(q_width)
    shapes = {}
    for name, (to, tw, _) in VISEME_CLASSES.items():
        dist = np.hypot(qo - to, 0.5 * (qw - tw))
        pick = dist <= max(neighbours, np.sort(dist)[min(len(dist) - 1, 8)])
        shapes[name] = d[pick].mean(axis=0).astype(np.float32)
    return VisemeBank(shapes, [t.source for t in tracks])


def coarticulate(phones: list[tuple[str, float, float]], engine: str, bank: VisemeBank, times: np.ndarray,
                 tau_scale: float = 0.6) -> np.ndarray:
    """Phones (name, start_s, end_s) -> (len(times),R,3) mouth displacement at `times` (s)."""
    if not phones:
        return np.zeros((len(times),) + bank.shapes["rest"].shape, np.float32)
    centres = np.array([(a + b) / 2 for _, a, b in phones])
    durs = np.array([max(0.03, b - a) for _, a, b in phones])
    classes = [viseme_of(p, engine) for p, _, _ in phones]
    dom = np.array([VISEME_CLASSES[c][2] for c in classes])
    targets = np.stack([bank.shapes[c] for c in classes])  # (P,R,3)
    tau = tau_scale * durs + 0.02
    dt = np.abs(times[:, None] - centres[None])
    # Inside a phone its own target holds; outside it decays with its dominance.
    w = dom[None] * np.exp(-np.maximum(0.0, dt - durs[None] / 2 * 0.5) / tau[None])
    w = w + 1e-6
    out = np.einsum("tp,prc->trc", w, targets) / w.sum(axis=1)[:, None, None]
    # Before the first and after the last phone: rest.
    fade = np.clip(np.minimum(times - phones[0][1] + 0.08, phones[-1][2] + 0.08 - times) / 0.08, 0, 1)
    rest = bank.shapes["rest"]
    return (fade[:, None, None] * out + (1 - fade[:, None, None]) * rest).astype(np.float32)
