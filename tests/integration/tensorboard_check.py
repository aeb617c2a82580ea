"""Reads the logs of tensorboard_sample back with TensorBoard's own EventAccumulator.

    tensorboard_check.py PATH/TO/mudit_tensorboard_sample

Exits 77 (skipped) when the tensorboard package is not importable.
"""
import io
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

try:
    from tensorboard.backend.event_processing import event_accumulator
except ImportError as e:  # pragma: no cover
    print(f"SKIP: the tensorboard Python package is not installed ({e}); "
          "install it with tools/bootstrap.sh --test-extras")
    sys.exit(77)


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)


def png_size(data):
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "image is a PNG")
    width, height = struct.unpack(">II", data[16:24])  # IHDR comes first
    return width, height


def main():
    writer = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        subprocess.run([writer, run], check=True)

        acc = event_accumulator.EventAccumulator(
            os.path.join(run, "tb"),
            size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0,
                           event_accumulator.AUDIO: 0})
        acc.Reload()
        tags = acc.Tags()
        check(sorted(tags["scalars"]) == ["loss", "lr"], f"scalar tags {tags['scalars']}")
        check(tags["audio"] == ["audio/sine"], f"audio tags {tags['audio']}")
        check(tags["images"] == ["spec/ramp"], f"image tags {tags['images']}")

        loss = acc.Scalars("loss")
        check([e.step for e in loss] == [1, 2, 3, 4, 5], f"loss steps {[e.step for e in loss]}")
        for e in loss:
            check(abs(e.value - 1.0 / e.step) < 1e-6, f"loss at step {e.step} is {e.value}")
        check(all(abs(e.value - 0.001) < 1e-9 for e in acc.Scalars("lr")), "lr values")

        (clip,) = acc.Audio("audio/sine")
        check(clip.step == 5, f"audio step {clip.step}")
        check(clip.content_type == "audio/wav", f"content type {clip.content_type}")
        check(clip.sample_rate == 16000 and clip.length_frames == 8000,
              f"audio {clip.sample_rate} Hz, {clip.length_frames} frames")
        with wave.open(io.BytesIO(clip.encoded_audio_string)) as w:
            check(w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2,
                  "WAV header")
            frames = w.readframes(w.getnframes())
        samples = struct.unpack(f"<{len(frames) // 2}h", frames)
        check(len(samples) == 8000, f"{len(samples)} samples")
        for i in (0, 4, 123, 7999):
            expected = round(0.5 * math.sin(2 * math.pi * 1000 * i / 16000) * 32768)
            check(abs(samples[i] - expected) <= 1, f"sample {i}: {samples[i]} != {expected}")

        (image,) = acc.Images("spec/ramp")
        check(image.step == 5 and image.width == 100 and image.height == 64,
              f"image {image.width}x{image.height} at step {image.step}")
        check(png_size(image.encoded_image_string) == (100, 64), "PNG size")

        with open(os.path.join(run, "metrics.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        check([r["step"] for r in rows] == [1, 2, 3, 4, 5], "jsonl steps")
        check(all(abs(r["loss"] - 1.0 / r["step"]) < 1e-12 for r in rows), "jsonl loss")
    print("tensorboard read back 10 scalars, 1 audio clip, 1 image and metrics.jsonl")


if __name__ == "__main__":
    main()
