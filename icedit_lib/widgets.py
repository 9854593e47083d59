"""An interactive editor for the notebooks (ipywidgets): pick or write a scene, type an instruction, edit.

    from icedit_lib.widgets import interactive_editor
    interactive_editor(device="cpu")   # in a notebook cell (Jupyter, JupyterLab, Colab)

The callbacks are plain functions (`source_image`, `run_edit`) so they are tested without a browser; the
widget only wires them to controls. Choices: a held-out example of `data/examples/`, a random held-out scene
by seed, a scene written as JSON, or (at full scale) an uploaded photo; the adapter, the framework, the
prompt mode (IC prompt or the bare instruction), steps and seed. It shows the source, the diptych the model
completed, the result and, on the miniature, the scene the parser reads back and the words of the
instruction the model does not know.
"""
from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from . import shapesworld as sw
from .diptych import FILL_GUIDANCE, T2I_GUIDANCE
from .registry import DATA_DIR

SOURCES = ("example", "random scene", "scene JSON", "upload")


def examples() -> list[dict]:
    """The held-out example suite shipped in data/examples (id, instruction, scenes)."""
    path = DATA_DIR / "examples" / "suite.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def source_image(kind: str, value) -> tuple[Image.Image, sw.Scene | None]:
    """(image, its scene if known) for a source choice: `example` (a suite id), `random scene` (a seed),
    `scene JSON` (text), `upload` (image bytes)."""
    if kind == "example":
        row = next((r for r in examples() if r["id"] == value), None)
        if row is None:
            raise ValueError(f"no example {value!r} in data/examples/suite.jsonl")
        scene = sw.Scene.from_dict(row["source_scene"])
        return sw.render(scene), scene
    if kind == "random scene":
        scene = sw.random_scene(random.Random(int(value)), split="eval")
        return sw.render(scene), scene
    if kind == "scene JSON":
        scene = sw.Scene.from_json(value)
        return sw.render(scene), scene
    if kind == "upload":
        from .images import load_image

        if not value:
            raise ValueError("no photo uploaded yet")
        with tempfile.TemporaryDirectory() as tmp:  # load_image's checks (size, mode, bombs) work on files
            path = Path(tmp) / "upload"
            path.write_bytes(value)
            return load_image(path), None
    raise ValueError(f"source must be one of {SOURCES}, got {kind!r}")


@dataclass
class EditorCache:
    """Loaded editors by (base, adapter, framework): switching back and forth does not reload."""
    device: str = "auto"
    editors: dict = field(default_factory=dict)

    def get(self, base: str, adapter: str, framework: str):
        key = (base, adapter, framework)
        if key not in self.editors:
            if framework == "inversion":
                from .inversion import InversionEditor

                self.editors[key] = InversionEditor.from_registry("mini-t2i" if base == "mini" else base,
                                                                  device=self.device)
            else:
                from .editor import ICEditor

                self.editors[key] = ICEditor.from_registry(base, adapter=adapter, device=self.device)
        return self.editors[key]


def run_edit(cache: EditorCache, image: Image.Image, scene: sw.Scene | None, instruction: str, base: str = "mini",
             adapter: str = "none", framework: str = "inpaint", prompt_mode: str = "ic", steps: int = 28,
             seed: int = 0) -> dict:
    """One edit and what to show of it: result, diptych, the parsed scene, the unknown words."""
    editor = cache.get(base, adapter, framework)
    guidance = FILL_GUIDANCE if framework == "inpaint" else T2I_GUIDANCE
    result = editor.edit(image, instruction, seed=seed, steps=steps, guidance=guidance, prompt_mode=prompt_mode)
    out = {"result": result.image, "diptych": result.diptych, "prompt": result.prompt,
           "unknown_words": editor.unknown_words(instruction) if hasattr(editor, "unknown_words") else []}
    if scene is not None:
        reading = sw.read_scene(result.image)
        out["parsed"] = sw.describe_scene(reading.scene) if reading.scene is not None else "(no clean scene)"
        out["source_scene"] = sw.describe_scene(scene)
    return out


def interactive_editor(device: str = "auto", base: str = "mini"):
    """The widget: controls on the left, the edit on the right. Returns the top-level widget."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .registry import DEFAULT_ADAPTERS, REGISTRY, available

    cache = EditorCache(device)
    rows = examples()
    adapters = ["none"] + [n for n, e in REGISTRY.items() if e.kind == "adapter" and e.base == base and available(n)]
    default = DEFAULT_ADAPTERS.get(base, "none")
    source_kind = w.ToggleButtons(options=SOURCES if base != "mini" else SOURCES[:3], description="source")
    example = w.Dropdown(options=[(f"{r['id']}: {r['instruction']}", r["id"]) for r in rows], description="example")
    seed_scene = w.IntText(value=0, description="scene seed")
    scene_json = w.Textarea(value=json.dumps(sw.Scene.from_dict(rows[0]["source_scene"]).to_dict()),
                            description="scene", layout=w.Layout(width="95%", height="80px"))
    upload = w.FileUpload(accept="image/*", multiple=False, description="photo")
    instruction = w.Text(value=rows[0]["instruction"], description="instruction", layout=w.Layout(width="95%"))
    adapter = w.Dropdown(options=adapters, value=default if default in adapters else "none", description="adapter")
    framework = w.Dropdown(options=["inpaint", "inversion"], description="framework")
    prompt = w.Dropdown(options=[("IC prompt", "ic"), ("bare instruction", "direct")], description="prompt")
    steps = w.IntSlider(value=28, min=2, max=50, description="steps")
    seed = w.IntText(value=0, description="seed")
    go = w.Button(description="Edit", button_style="primary")
    out = w.Output()

    def on_example(change):
        row = next(r for r in rows if r["id"] == change["new"])
        instruction.value = row["instruction"]

    example.observe(on_example, names="value")

    def on_edit(_):
        out.clear_output(wait=True)
        with out:
            value = {"example": example.value, "random scene": seed_scene.value, "scene JSON": scene_json.value,
                     "upload": (upload.value[0]["content"].tobytes() if upload.value else b"")}[source_kind.value]
            try:
                image, scene = source_image(source_kind.value, value)
                shown = run_edit(cache, image, scene, instruction.value, base, adapter.value, framework.value,
                                 prompt.value, steps.value, seed.value)
            except (ValueError, sw.SceneError) as e:
                print("error:", e)
                return
            fig, axes = plt.subplots(1, 3, figsize=(10, 3), gridspec_kw={"width_ratios": [1, 2, 1]})
            for ax, img, title in zip(axes, (image, shown["diptych"], shown["result"]),
                                      ("source", "the diptych the model completed", "result")):
                ax.imshow(img)
                ax.set_title(title, fontsize=9)
                ax.axis("off")
            plt.show()
            print("prompt:", shown["prompt"])
            if shown["unknown_words"]:
                print("words the model does not know:", ", ".join(shown["unknown_words"]))
            if "parsed" in shown:
                print("source scene:", shown["source_scene"])
                print("read back   :", shown["parsed"])

    go.on_click(on_edit)
    controls = w.VBox([source_kind, example, seed_scene, scene_json] + ([upload] if base != "mini" else []) +
                      [instruction, w.HBox([adapter, framework]), w.HBox([prompt, seed]), steps, go])
    ui = w.VBox([controls, out])
    display(ui)
    return ui
