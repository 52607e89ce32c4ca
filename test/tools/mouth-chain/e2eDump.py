"""The avatar e2e's mouth chain, link by link, from the file AVATAR_E2E_DUMP made it write.

  AVATAR_E2E_DUMP=$PWD/.data/e2e-dump.json flock /tmp/quiet.lock npx vitest run test/e2e/avatar-live.test.ts
  models/.venv/bin/python test/tools/mouth-chain/e2eDump.py .data/e2e-dump.json

Pairs every frame B viewed with the server's frame log (RTP timestamp) and A's recorded motion (capture
time), as the test does, and prints the correlations of the mouth opening (inner lip gap / face height)
between A's pre-encode landmarks, A's decoded packets, the server's retargeted landmarks and B's
landmarker, the correlation at lags -5..+5 viewed frames, and the mean openings.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def corr(a, b) -> float:
    return round(float(np.corrcoef(a, b)[0, 1]), 3)


def main(path: str) -> None:
    dump = json.loads(open(path).read())
    recorded, frame_log, viewed = dump["recorded"], dump["frameLog"], dump["viewed"]
    by_capture = {round(r["captureTimeMs"] * 16): r for r in recorded}
    log = {f["rtpTimestamp"]: f for f in frame_log}
    rows = []  # viewed index, A pre-encode, A decoded, server retargeted, B seen
    for i, v in enumerate(viewed):
        sent = log.get(v["rtpTimestamp"])
        if not sent or sent["originCaptureTimeMs"] is None or sent["state"] != "live":
            continue
        a = by_capture.get(round(sent["originCaptureTimeMs"] * 16))
        if a and v["mouthOpen"] is not None:
            rows.append((i, a["pre"], a["dec"], sent["mouthOpen"], v["mouthOpen"]))
    r = np.array(rows)
    seen_all = np.array([np.nan if v["mouthOpen"] is None else v["mouthOpen"] for v in viewed])
    lags = {}
    for k in range(-5, 6):
        j = r[:, 0].astype(int) + k
        ok = (j >= 0) & (j < len(seen_all))
        ok[ok] &= np.isfinite(seen_all[j[ok]])
        lags[k] = corr(r[ok, 1], seen_all[j[ok]])
    pre = np.array([x["pre"] for x in recorded])
    dec = np.array([x["dec"] for x in recorded])
    print(json.dumps({
        "pairs": len(r), "a_capture_interval_ms_p50": round(float(np.median(np.diff([x["captureTimeMs"] for x in recorded]))), 1),
        "a_landmarks_to_a_packets": corr(pre, dec),
        "a_to_server_retargeted": corr(r[:, 1], r[:, 3]),
        "server_retargeted_to_b": corr(r[:, 3], r[:, 4]),
        "a_to_b": corr(r[:, 1], r[:, 4]),
        "a_packets_to_b": corr(r[:, 2], r[:, 4]),
        "lags": lags,
        "mean_open": {"a": round(float(r[:, 1].mean()), 4), "server": round(float(r[:, 3].mean()), 4), "b": round(float(r[:, 4].mean()), 4)},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
