"""The bundled demo clips and questions (``stop_eval/data/demo``), and how they are made.

``python -m stop_eval.demo.data`` rewrites the clips with PyAV: small synthetic scenes (a
moving square, a bouncing ball, a scene cut) with yes/no questions in the EventHallusion
style and multiple-choice questions in the MVBench style.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
FPS = 8
FRAMES = 40
HEIGHT, WIDTH = 96, 128


def _background(t: int) -> np.ndarray:
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    frame[..., 2] = np.linspace(40, 160, WIDTH, dtype=np.uint8)[None]
    frame[..., 1] = (t * 3) % 60
    return frame


def moving_square(t: int) -> np.ndarray:
    """A red square moving left to right."""
    frame = _background(t)
    x = int(t * (WIDTH - 24) / (FRAMES - 1))
    frame[36:60, x : x + 24] = (230, 30, 30)
    return frame


def bouncing_ball(t: int) -> np.ndarray:
    """A yellow disc bouncing vertically."""
    frame = _background(t)
    y = int(abs(((t * 6) % 120) - 60)) + 12
    yy, xx = np.ogrid[:HEIGHT, :WIDTH]
    frame[(yy - y) ** 2 + (xx - 64) ** 2 <= 144] = (240, 220, 40)
    return frame


def scene_cut(t: int) -> np.ndarray:
    """A green bar that turns into a blue circle halfway (an unexpected event)."""
    frame = _background(t)
    if t < FRAMES // 2:
        frame[20:76, 20 + t : 30 + t] = (30, 200, 60)
    else:
        yy, xx = np.ogrid[:HEIGHT, :WIDTH]
        frame[(yy - 48) ** 2 + (xx - 80) ** 2 <= 400] = (40, 60, 230)
    return frame


CLIPS = {"moving_square": moving_square, "bouncing_ball": bouncing_ball, "scene_cut": scene_cut}

QUESTIONS = [
    {
        "id": "yesno_square",
        "video": "moving_square.mp4",
        "kind": "yesno",
        "question": "Does the red square stop in the middle of the frame?",
        "answer": "no",
    },
    {
        "id": "yesno_cut",
        "video": "scene_cut.mp4",
        "kind": "yesno",
        "question": "Does the green bar turn into a blue circle?",
        "answer": "yes",
    },
    {
        "id": "mcqa_ball",
        "video": "bouncing_ball.mp4",
        "kind": "mcqa",
        "question": "How does the yellow ball move?",
        "candidates": ["up and down", "left to right", "in a circle", "it does not move"],
        "answer": "up and down",
    },
]


def write_clip(path: Path, draw: object, frames: int = FRAMES, fps: int = FPS) -> None:
    """Encode ``frames`` frames of ``draw(t)`` as an H.264 .mp4 with PyAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "28", "preset": "veryslow"}
        for t in range(frames):
            image = av.VideoFrame.from_ndarray(draw(t), format="rgb24")  # type: ignore[operator]
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_demo_data(folder: Path = DEMO_DIR) -> None:
    """Write every demo clip and the question file into ``folder``."""
    for name, draw in CLIPS.items():
        write_clip(folder / f"{name}.mp4", draw)
    (folder / "questions.json").write_text(json.dumps(QUESTIONS, indent=2) + "\n")


def demo_questions(folder: Path = DEMO_DIR) -> list[dict]:
    """The bundled questions, with video paths resolved inside ``folder``."""
    items = json.loads((folder / "questions.json").read_text())
    for item in items:
        item["video"] = str(folder / item["video"])
    return items


if __name__ == "__main__":
    write_demo_data()
    print(f"wrote demo clips to {DEMO_DIR}")
