"""video_io: every frame as a player shows it — display-matrix rotation, non-square pixels, EXIF
orientation — on clips made from the real media with ffmpeg (the public phone-video bug report)."""

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from avatar_ml.landmarks.video_io import (VideoError, apply_exif_orientation, display_size, exif_orientation,
                                          iter_frames, probe, read_frames, read_image)

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "media"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-nostdin", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """The bug report's clips: land.mp4 coded 512x384; rot90/180/270 the same stream with a display
    rotation (`-c copy`: identical decoded pixels); sar43 coded 384x384 with 4:3 pixels, sar34
    512x288 with 3:4 pixels; phone90/180/270 stored turned, with the display rotation that shows
    them upright again (what a phone records)."""
    d = tmp_path_factory.mktemp("clips")
    out = {name: d / f"{name}.mp4" for name in
           ("land", "rot90", "rot180", "rot270", "sar43", "sar34", "phone90", "phone180", "phone270")}
    _ffmpeg("-i", str(MEDIA / "d10.mp4"), "-frames:v", "10", "-vf", "crop=512:384:0:40", "-c:v", "libx264",
            "-pix_fmt", "yuv420p", str(out["land"]))
    for deg in (90, 180, 270):
        _ffmpeg("-i", str(out["land"]), "-c", "copy", "-metadata:s:v:0", f"rotate={deg}", str(out[f"rot{deg}"]))
    _ffmpeg("-i", str(out["land"]), "-vf", "scale=384:384,setsar=4/3", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            str(out["sar43"]))
    _ffmpeg("-i", str(out["land"]), "-vf", "scale=512:288,setsar=3/4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            str(out["sar34"]))
    # ffmpeg's `rotate=D` shows the picture turned D degrees counter-clockwise: store it turned clockwise.
    for deg, vf in ((90, "transpose=clock"), (180, "hflip,vflip"), (270, "transpose=cclock")):
        stored = d / f"stored{deg}.mp4"
        _ffmpeg("-i", str(out["land"]), "-vf", vf, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(stored))
        _ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", f"rotate={deg}", str(out[f"phone{deg}"]))
    return out


def test_display_size_rotates_then_makes_pixels_square():
    assert display_size(512, 384, 0, 1.0) == (512, 384)
    assert display_size(512, 384, 90, 1.0) == (384, 512)
    assert display_size(512, 384, 270, 1.0) == (384, 512)
    assert display_size(384, 384, 0, 4 / 3) == (512, 384)  # the wide side is upsampled
    assert display_size(512, 512, 0, 3 / 4) == (512, 683)  # tall pixels: the height grows
    assert display_size(384, 384, 90, 4 / 3) == (384, 512)  # turned: the pixels are now 3:4
    assert display_size(1440, 1080, 0, 4 / 3) == (1920, 1080)  # HDV anamorphic


@pytest.mark.parametrize("deg", [90, 180, 270])
def test_rotated_clips_come_out_turned_with_the_size_ffmpeg_produced(clips, deg):
    land = read_frames(clips["land"])
    info = probe(clips[f"rot{deg}"])
    # ffmpeg writes `rotate=D` as a display matrix turning the picture D degrees counter-clockwise
    assert (info.coded_width, info.coded_height, info.rotation) == (512, 384, (360 - deg) % 360)
    assert (info.width, info.height) == ((512, 384) if deg == 180 else (384, 512))
    turned = read_frames(clips[f"rot{deg}"])
    assert turned.shape == (10, info.height, info.width, 3)
    # same coded stream: the frames are exactly the unrotated ones turned clockwise by info.rotation
    assert np.array_equal(turned, np.rot90(land, -info.rotation // 90, axes=(1, 2)))


@pytest.mark.parametrize("name,size", [("sar43", (512, 384)), ("sar34", (512, 384))])
def test_non_square_pixels_are_resampled_to_the_displayed_shape(clips, name, size):
    info = probe(clips[name])
    assert (info.width, info.height) == size
    frames = read_frames(clips[name])
    assert frames.shape == (10, size[1], size[0], 3)
    land = read_frames(clips["land"]).astype(np.float32)
    import cv2

    back = np.stack([cv2.resize(f, (512, 384), interpolation=cv2.INTER_AREA) for f in frames]).astype(np.float32)
    assert np.abs(back - land).mean() < 4  # the same picture, not a scrambled one


def test_select_keeps_only_the_wanted_frames(clips):
    all_frames = read_frames(clips["rot90"])
    picked = list(iter_frames(clips["rot90"], select="eq(n\\,0)+eq(n\\,7)"))
    assert len(picked) == 2 and np.array_equal(picked[1], all_frames[7])


def test_faces_are_found_in_every_frame_of_rotated_phone_clips(clips):
    from avatar_ml.landmarks.extractor import FaceLandmarkExtractor

    ex = FaceLandmarkExtractor()
    reference = [ex.detect(f) for f in read_frames(clips["land"])]
    assert all(r is not None for r in reference)
    # the bug report's clip: shown turned 90°, faces in 10 of 10 frames (0 of 10 before the fix)
    assert sum(ex.detect(f) is not None for f in read_frames(clips["rot90"])) == 10
    # phone recordings and non-square pixels: upright again, the same landmarks as the plain clip
    for name in ("phone90", "phone180", "phone270", "sar43", "sar34"):
        frames = read_frames(clips[name])
        h, w = frames.shape[1:3]
        for i, f in enumerate(frames):
            face = ex.detect(f)
            assert face is not None, f"{name} frame {i}: no face"
            px = np.abs((face.landmarks[:, :2] - reference[i].landmarks[:, :2]) * [w, h]).mean()
            assert px < 3.0, f"{name} frame {i}: landmarks {px:.2f} px from the unrotated clip's"


def _with_orientation(jpeg: bytes, value: int) -> bytes:
    """The JPEG with its EXIF orientation tag rewritten in place (pixels untouched)."""
    b = bytearray(jpeg)
    i = 2
    while i < len(b):
        marker, length = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
        if marker == 0xE1 and b[i + 4:i + 10] == b"Exif\x00\x00":
            t = i + 10
            e = ">" if b[t:t + 2] == b"MM" else "<"
            ifd = t + struct.unpack(e + "I", b[t + 4:t + 8])[0]
            for k in range(struct.unpack(e + "H", b[ifd:ifd + 2])[0]):
                entry = ifd + 2 + 12 * k
                if struct.unpack(e + "H", b[entry:entry + 2])[0] == 0x0112:
                    b[entry + 8:entry + 10] = struct.pack(e + "H", value)
                    return bytes(b)
        i += 2 + length
    raise AssertionError("s0.jpg has no EXIF orientation tag")


def test_exif_orientation_turns_images_upright_and_read_frames_agrees_with_read_image(tmp_path):
    from PIL import ImageOps

    src = (MEDIA / "s0.jpg").read_bytes()
    stored = read_image(MEDIA / "s0.jpg")
    assert exif_orientation(MEDIA / "s0.jpg") == 1
    for value in range(1, 9):
        path = tmp_path / f"o{value}.jpg"
        path.write_bytes(_with_orientation(src, value))
        assert exif_orientation(path) == value
        upright = read_image(path)
        # the reference: Pillow's own EXIF transpose of the same stored pixels
        ref = np.asarray(ImageOps.exif_transpose(_pil_with_orientation(stored, value)))
        assert np.array_equal(upright, ref), f"orientation {value}"
        frames = read_frames(path)
        assert frames.shape == (1, *upright.shape) and np.array_equal(frames[0], upright)
        info = probe(path)
        assert info.is_image and (info.height, info.width) == upright.shape[:2]


def _pil_with_orientation(rgb: np.ndarray, value: int):
    from PIL import Image

    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = value
    return im


def test_a_sideways_stored_portrait_with_exif_orientation_6_is_upright_and_its_face_is_found(tmp_path):
    from PIL import Image

    from avatar_ml.landmarks.extractor import FaceLandmarkExtractor

    upright = read_image(MEDIA / "s0.jpg")
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)))  # a phone held sideways
    exif = stored.getexif()
    exif[0x0112] = 6  # "turn 90° clockwise to show"
    stored.save(tmp_path / "o6.jpg", quality=95, exif=exif)
    img = read_frames(tmp_path / "o6.jpg")[0]
    assert img.shape == upright.shape
    assert np.abs(img.astype(int) - upright).mean() < 3  # re-encoded, the same upright picture
    ex = FaceLandmarkExtractor()
    face, ref = ex.detect(img), ex.detect(upright)
    assert face is not None and ref is not None
    assert face.landmarks[13, 1] > max(face.landmarks[33, 1], face.landmarks[263, 1])  # mouth below the eyes
    assert np.abs((face.landmarks[:, :2] - ref.landmarks[:, :2]) * img.shape[1::-1]).mean() < 2.0


def test_apply_exif_orientation_is_the_exif_table():
    a = np.arange(6).reshape(2, 3)
    assert np.array_equal(apply_exif_orientation(a, 1), a)
    assert np.array_equal(apply_exif_orientation(a, 6), [[3, 0], [4, 1], [5, 2]])  # 90° clockwise
    assert np.array_equal(apply_exif_orientation(a, 8), [[2, 5], [1, 4], [0, 3]])  # 90° counter-clockwise
    assert np.array_equal(apply_exif_orientation(a, 5), a.T)
    assert np.array_equal(apply_exif_orientation(a, 7), a.T[::-1, ::-1])


def test_unreadable_inputs_raise_video_errors(tmp_path):
    with pytest.raises(VideoError):
        read_frames(tmp_path / "missing.mp4")
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    with pytest.raises(VideoError):
        read_frames(tmp_path / "junk.jpg")
