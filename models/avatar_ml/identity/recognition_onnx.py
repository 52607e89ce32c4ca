"""The same FaceRecognitionNet as an ONNX graph, built node by node from the tfjs weights and run
with onnxruntime (faster than eager PyTorch on CPU). Ops mirror recognition_net.py one to one
(conv+bias, scale mul+add, relu, zero-padded shortcuts), so both agree to float32 rounding.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from .architecture import STAGES, INPUT_SIZE, MEAN_RGB, PIXEL_SCALE

OPSET = 17
INPUT_NAME = "image_nhwc"
OUTPUT_NAME = "descriptor"


class _GraphBuilder:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value: np.ndarray) -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs) -> str:
        out = self.name(hint)
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def conv_layer(self, x: str, prefix: str, stride: int, relu: bool, hw: int) -> tuple[str, int]:
        w = self.weights
        filters = w[f"{prefix}/conv/filters"]
        k = int(filters.shape[0])
        pad = k // 2 if stride == 1 else 0
        out = self.op("Conv", [x, self.const(f"{prefix}/W", filters.transpose(3, 2, 0, 1)),
                               self.const(f"{prefix}/B", w[f"{prefix}/conv/bias"])], prefix,
                      kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        out = self.op("Mul", [out, self.const(f"{prefix}/sw",
                                              w[f"{prefix}/scale/weights"].reshape(1, -1, 1, 1))], "scale")
        out = self.op("Add", [out, self.const(f"{prefix}/sb",
                                              w[f"{prefix}/scale/biases"].reshape(1, -1, 1, 1))], "shift")
        out_hw = (hw + 2 * pad - k) // stride + 1
        return (self.op("Relu", [out], "relu") if relu else out), out_hw

    def residual(self, x: str, name: str, hw: int) -> str:
        out, _ = self.conv_layer(x, f"{name}/conv1", 1, True, hw)
        out, _ = self.conv_layer(out, f"{name}/conv2", 1, False, hw)
        return self.op("Relu", [self.op("Add", [out, x], "res")], "relu")

    def residual_down(self, x: str, name: str, hw: int, channels: int) -> tuple[str, int, int]:
        out, out_hw = self.conv_layer(x, f"{name}/conv1", 2, True, hw)
        out, out_hw = self.conv_layer(out, f"{name}/conv2", 1, False, out_hw)
        out_ch = int(self.weights[f"{name}/conv2/conv/filters"].shape[3])
        pooled = self.op("AveragePool", [x], "avgpool", kernel_shape=[2, 2], strides=[2, 2])
        pooled_hw = hw // 2
        if out_hw != pooled_hw:  # one zero row and column at the end, as face-api
            out = self.op("Pad", [out, self.const("pad_hw", np.array([0, 0, 0, 0, 0, 0, 1, 1],
                                                                       np.int64))], "pad")
            out_hw += 1
        if out_ch != channels:  # zero channels after the shortcut's own
            pooled = self.op("Pad", [pooled, self.const("pad_c", np.array(
                [0, 0, 0, 0, 0, out_ch - channels, 0, 0], np.int64))], "pad")
        return self.op("Relu", [self.op("Add", [pooled, out], "res")], "relu"), out_hw, out_ch


def build_recognition_onnx(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """Input (N,150,150,3) float32 RGB 0..255 (NHWC, as face-api); output (N,128)."""
    g = _GraphBuilder(weights)
    x = g.op("Transpose", [INPUT_NAME], "nchw", perm=[0, 3, 1, 2])
    x = g.op("Sub", [x, g.const("mean", np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1))], "centre")
    x = g.op("Div", [x, g.const("scale", np.array(PIXEL_SCALE, np.float32))], "norm")
    x, hw = g.conv_layer(x, "conv32_down", 2, True, INPUT_SIZE)
    x = g.op("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])
    hw = (hw - 3) // 2 + 1
    channels = 32
    for name, kind in STAGES[1:]:
        if kind == "res":
            x = g.residual(x, name, hw)
        else:
            x, hw, channels = g.residual_down(x, name, hw, channels)
    x = g.op("ReduceMean", [x], "gap", axes=[2, 3], keepdims=0)
    g.nodes.append(helper.make_node("MatMul", [x, g.const("fc", weights["fc"])], [OUTPUT_NAME]))
    graph = helper.make_graph(
        g.nodes, "face_api_face_recognition_net",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", INPUT_SIZE, INPUT_SIZE, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", 128])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="avatar_ml.identity")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


class OnnxRecognitionNet:
    """onnxruntime session over the graph above; same `forward` contract as RecognitionNet."""

    def __init__(self, weights: dict[str, np.ndarray], threads: int = 2) -> None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(build_recognition_onnx(weights).SerializeToString(),
                                             opts, providers=["CPUExecutionProvider"])

    def forward(self, batch_nhwc: np.ndarray) -> np.ndarray:
        if batch_nhwc.ndim != 4 or batch_nhwc.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"expected (N,{INPUT_SIZE},{INPUT_SIZE},3), got {batch_nhwc.shape}")
        x = np.ascontiguousarray(batch_nhwc, dtype=np.float32)
        return self._session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
