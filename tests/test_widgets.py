"""The interactive editor's callbacks, without a browser, on the tiny random miniature."""
import io

import pytest
from PIL import Image

from icedit_lib import shapesworld as sw
from icedit_lib import widgets


def test_every_kind_of_source():
    first = widgets.examples()[0]
    image, scene = widgets.source_image("example", first["id"])
    assert scene == sw.Scene.from_dict(first["source_scene"]) and image.size == (64, 64)
    image, scene = widgets.source_image("random scene", 3)
    assert sw.scene_split(scene) == "eval" and sw.read_scene(image).exact == scene
    image, scene = widgets.source_image("scene JSON", scene.to_json())
    assert sw.read_scene(image).exact == scene
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (255, 0, 0, 128)).save(buffer, format="PNG")
    image, scene = widgets.source_image("upload", buffer.getvalue())
    assert image.mode == "RGB" and scene is None
    with pytest.raises(ValueError):
        widgets.source_image("example", "no-such-id")
    with pytest.raises(sw.SceneError):
        widgets.source_image("scene JSON", "{not json")
    with pytest.raises(ValueError, match="no photo"):
        widgets.source_image("upload", b"")


def test_run_edit_shows_result_diptych_parsed_scene_and_unknown_words(mini_env):
    cache = widgets.EditorCache("cpu")
    image, scene = widgets.source_image("random scene", 1)
    shown = widgets.run_edit(cache, image, scene, "make the zebra blue", steps=2)
    assert shown["result"].size == (64, 64) and shown["diptych"].size == (128, 64)
    assert shown["unknown_words"] == ["zebra"] and "parsed" in shown and shown["prompt"].startswith("A diptych")
    assert widgets.run_edit(cache, image, scene, "make it blue", steps=2, prompt_mode="direct")["prompt"] == \
        "make it blue"
    assert len(cache.editors) == 1  # the same editor served both


def test_the_widget_builds_and_its_button_edits(mini_env, monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = widgets.run_edit
    monkeypatch.setattr(widgets, "run_edit", lambda *a, **k: calls.append(a) or real(*a, **k))
    ui = widgets.interactive_editor(device="cpu")
    controls = ui.children[0].children
    steps = next(c for c in controls if getattr(c, "description", "") == "steps")
    steps.value = 2
    button = next(c for c in controls if getattr(c, "description", "") == "Edit")
    button.click()
    assert len(calls) == 1 and calls[0][3] == widgets.examples()[0]["instruction"]
