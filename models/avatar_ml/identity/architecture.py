"""FaceRecognitionNet's layout and input constants, shared by the torch and ONNX versions."""

# face-api's normalisation constants (FaceRecognitionNet.forwardInput).
MEAN_RGB = (122.782, 117.001, 104.298)
PIXEL_SCALE = 255.0
INPUT_SIZE = 150

STAGES = (
    ("conv32_down", "down0"),
    ("conv32_1", "res"), ("conv32_2", "res"), ("conv32_3", "res"),
    ("conv64_down", "down"), ("conv64_1", "res"), ("conv64_2", "res"), ("conv64_3", "res"),
    ("conv128_down", "down"), ("conv128_1", "res"), ("conv128_2", "res"),
    ("conv256_down", "down"), ("conv256_1", "res"), ("conv256_2", "res"),
    ("conv256_down_out", "down"),
)
