"""wav2vec2 / HuBERT encoders as ONNX with the interface the audio-to-mouth loader takes.

Interface: `input_values` float32 (1, N), 16 kHz, zero-mean unit-variance -> `last_hidden_state`
float32 (1, T, D), T = floor((N - 400) / 320) + 1 (50 Hz): wav2vec2's own feature-extractor
framing (conv kernels 10,3,3,3,3,2,2, strides 5,2,2,2,2,2,2), the same as the shipped log-mel
encoder, so any of them plugs into `train.py --encoder-onnx` and the server.

Recipe for a real pretrained encoder (needs the weights, which this machine cannot download):

    from transformers import Wav2Vec2Model            # or HubertModel
    model = Wav2Vec2Model.from_pretrained("facebook/wav2vec2-base-960h")   # or facebook/hubert-base-ls960
    export_encoder(model, "models/audio/encoder-w2v2-base.onnx")
    # then train the audio-to-mouth head on its features (leave-one-clip-out folds + all):
    #   PYTHONPATH=models python -m avatar_ml.audio.train --encoder-onnx models/audio/encoder-w2v2-base.onnx \\
    #       --family w2v2-base
    # and score it: npm run eval:lipsync -- --clip <mp4> --family w2v2-base --out <dir>

What this module runs here (`python -m avatar_ml.audio.wav2vec2_onnx`): a *randomly initialised*
small `transformers.Wav2Vec2Model` (2 layers, hidden 64; no pretrained speech weights, it knows
nothing about speech) exported through the same `export_encoder`, to prove the plumbing: export,
interface check, head training on its features, the eval CLI and the server loading it. It is
labelled `wav2vec2-random` everywhere.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from .clips import REPO_ROOT
from .model import frame_count


class _LastHidden(torch.nn.Module):
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        return self.model(input_values).last_hidden_state


def export_encoder(model: torch.nn.Module, path: str | Path, opset: int = 17) -> None:
    """Exports a transformers Wav2Vec2Model/HubertModel (eval mode) as input_values -> last_hidden_state."""
    model.eval()
    wrapped = _LastHidden(model)
    x = torch.randn(1, 16000)
    torch.onnx.export(wrapped, (x,), str(path), input_names=["input_values"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_values": {1: "samples"}, "last_hidden_state": {1: "frames"}},
                      opset_version=opset, dynamo=False)


def check_interface(path: str | Path) -> dict:
    """Runs the ONNX on 1.0 s and 2.5 s of noise; checks names, shapes and the 50 Hz framing."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    if [i.name for i in sess.get_inputs()] != ["input_values"]:
        raise ValueError(f"{path}: input must be 'input_values', got {[i.name for i in sess.get_inputs()]}")
    out = {}
    for n in (16000, 40000):
        y = sess.run(None, {"input_values": np.random.default_rng(0).standard_normal((1, n)).astype(np.float32)})[0]
        if y.ndim != 3 or y.shape[0] != 1 or y.shape[1] != frame_count(n):
            raise ValueError(f"{path}: {n} samples gave {y.shape}, expected (1, {frame_count(n)}, D)")
        out[n] = list(y.shape)
    return out


def random_wav2vec2(seed: int = 0) -> torch.nn.Module:
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(seed)
    cfg = Wav2Vec2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                         conv_dim=(32,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
                         do_stable_layer_norm=True, feat_extract_norm="layer", apply_spec_augment=False)
    return Wav2Vec2Model(cfg)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "audio" / "encoder-wav2vec2-random.onnx")
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export_encoder(random_wav2vec2(), args.out)
    shapes = check_interface(args.out)
    print(f"wrote {args.out} (randomly initialised Wav2Vec2Model, NOT pretrained): {shapes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
