import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

from icedit_lib import shapesworld as sw

SPEC_CELLS = {"top left": (11, 11), "top": (32, 11), "top right": (53, 11), "left": (11, 32), "center": (32, 32),
              "right": (53, 32), "bottom left": (11, 53), "bottom": (32, 53), "bottom right": (53, 53)}
SPEC_COLORS = {"red": (220, 50, 47), "green": (64, 160, 43), "blue": (38, 110, 220), "yellow": (240, 200, 30),
               "purple": (140, 70, 190), "orange": (245, 130, 30)}
SPEC_BG = {"white": (245, 245, 245), "gray": (128, 128, 128), "black": (20, 20, 20)}


def spec_render(scene: dict) -> Image.Image:
    """The spec's rendering table, written out independently of the library."""
    img = Image.new("RGB", (64, 64), SPEC_BG[scene["background"]])
    d = ImageDraw.Draw(img)
    for o in scene["objects"]:
        cx, cy = SPEC_CELLS[o["cell"]]
        r = {"small": 5, "large": 9}[o["size"]]
        kw = {"fill": SPEC_COLORS[o["color"]]} if scene["style"] == "filled" else \
            {"outline": SPEC_COLORS[o["color"]], "width": 3}
        if o["shape"] == "circle":
            d.ellipse([cx - r, cy - r, cx + r, cy + r], **kw)
        elif o["shape"] == "square":
            d.rectangle([cx - r, cy - r, cx + r, cy + r], **kw)
        elif o["shape"] == "triangle":
            d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], **kw)
        else:
            d.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], **kw)
    return img


def test_render_is_pixel_exact_to_spec():
    rng = random.Random(0)
    for _ in range(300):
        scene = sw.random_scene(rng)
        got = np.asarray(sw.render(scene))
        assert got.shape == (64, 64, 3) and got.dtype == np.uint8
        assert (got == np.asarray(spec_render(scene.to_dict()))).all()


def test_render_spec_example_pixels():
    scene = sw.Scene.from_dict({"background": "white", "style": "filled", "objects": [
        {"shape": "circle", "color": "red", "size": "large", "cell": "top left"}]})
    img = sw.render(scene)
    assert img.getpixel((11, 11)) == (220, 50, 47)
    assert img.getpixel((0, 0)) == (245, 245, 245)
    assert img.getpixel((40, 40)) == (245, 245, 245)


def test_scene_equality_ignores_order_and_json_roundtrip():
    a = sw.Obj("circle", "red", "large", "top")
    b = sw.Obj("square", "blue", "small", "center")
    s1, s2 = sw.Scene("gray", "outline", (a, b)), sw.Scene("gray", "outline", (b, a))
    assert s1 == s2 and hash(s1) == hash(s2)
    assert sw.Scene.from_json(s1.to_json()) == s1
    assert s1 != sw.Scene("gray", "filled", (a, b))


@pytest.mark.parametrize("bad", [
    {"background": "pink", "style": "filled", "objects": [{"shape": "circle", "color": "red", "size": "large", "cell": "top"}]},
    {"background": "white", "style": "filled", "objects": []},
    {"background": "white", "style": "filled", "objects": [{"shape": "circle", "color": "red", "size": "large", "cell": "top"}] * 2},
    {"background": "white", "style": "filled", "objects": [{"shape": "hexagon", "color": "red", "size": "large", "cell": "top"}]},
    {"background": "white", "style": "filled"},
])
def test_invalid_scenes_are_refused(bad):
    with pytest.raises(sw.SceneError):
        sw.Scene.from_dict(bad)


def test_edit_constraints():
    rng = random.Random(1)
    for _ in range(500):
        pair = sw.random_pair(rng)
        src, tgt, e = pair.source, pair.target, pair.edit
        assert src != tgt
        n_src, n_tgt = len(src.objects), len(tgt.objects)
        if e.kind == "add":
            assert n_tgt == n_src + 1 <= 4
        elif e.kind == "remove":
            assert n_tgt == n_src - 1 >= 1
        elif e.kind in ("background", "restyle"):
            assert set(src.objects) == set(tgt.objects)
        else:
            assert n_tgt == n_src
        assert pair.instruction == pair.instruction.lower() and not pair.instruction.endswith(".")
    one = sw.Scene("white", "filled", (sw.Obj("circle", "red", "large", "top"),))
    with pytest.raises(sw.SceneError):
        sw.apply_edit(one, sw.Edit("remove", one.objects[0]))
    with pytest.raises(sw.SceneError):
        sw.apply_edit(one, sw.Edit("recolor", one.objects[0], "red"))
    with pytest.raises(sw.SceneError):
        sw.apply_edit(one, sw.Edit("background", value="white"))


def test_referring_phrases_follow_spec_order():
    c1 = sw.Obj("circle", "red", "large", "top left")
    c2 = sw.Obj("circle", "blue", "large", "top")
    c3 = sw.Obj("circle", "blue", "small", "center")
    c4 = sw.Obj("circle", "blue", "small", "bottom")
    sq = sw.Obj("square", "red", "small", "left")
    assert sw.referring_phrase(sw.Scene("white", "filled", (c1, sq)), c1) == "the circle"
    assert sw.referring_phrase(sw.Scene("white", "filled", (c1, c2)), c1) == "the red circle"
    assert sw.referring_phrase(sw.Scene("white", "filled", (c1, c2, c3)), c2) == "the large blue circle"
    assert sw.referring_phrase(sw.Scene("white", "filled", (c2, c3, c4)), c3) == "the circle at the center"


def test_instruction_templates():
    scene = sw.Scene("white", "filled", (sw.Obj("circle", "red", "small", "top"),))
    t = scene.objects[0]
    assert sw.instruction(scene, sw.Edit("resize", t)) == "make the circle bigger"
    assert sw.instruction(scene, sw.Edit("resize", t), template=1) == "enlarge the circle"
    assert sw.instruction(scene, sw.Edit("restyle")) == "draw the shapes as outlines"
    assert sw.instruction(scene, sw.Edit("recolor", t, "blue"), template=1) == "change the color of the circle to blue"
    add = sw.Edit("add", value=sw.Obj("square", "green", "large", "bottom right"))
    assert sw.instruction(scene, add) == "add a large green square at the bottom right"


IMPERATIVES = {"make", "remove", "delete", "take", "paint", "enlarge", "shrink", "turn", "replace", "change", "move",
               "put", "add", "draw", "fill"}


def test_captions_are_descriptive_not_imperative():
    rng = random.Random(2)
    for _ in range(300):
        pair = sw.random_pair(rng)
        for text in (sw.describe_scene(pair.source), sw.diptych_caption(pair.source, pair.edit, describe_left=True)):
            assert not IMPERATIVES & set(text.lower().replace(",", " ").replace(".", " ").replace(":", " ").split()), text
    cap = sw.diptych_caption(pair.source, None)
    assert cap.endswith("exactly the same as on the left.")


def test_parser_reads_every_clean_render():
    rng = random.Random(3)
    for _ in range(400):
        scene = sw.random_scene(rng)
        reading = sw.read_scene(sw.render(scene))
        assert reading.clean and reading.exact == scene, (scene, reading)


def test_parser_is_robust_to_generative_noise():
    rng, nrng = random.Random(4), np.random.default_rng(0)
    ok = 0
    for _ in range(200):
        scene = sw.random_scene(rng)
        noisy = np.asarray(sw.render(scene), dtype=np.float32) + nrng.normal(0, 10, (64, 64, 3))
        # a one-pixel jitter of edges, as a decoder produces
        noisy = np.clip(noisy, 0, 255)
        ok += sw.read_scene(noisy).exact == scene
    assert ok >= 196


def test_parser_refuses_blobs():
    scene = sw.Scene("white", "filled", (sw.Obj("square", "red", "large", "center"),))
    arr = np.asarray(sw.render(scene)).copy()
    arr[26:38, 20:44] = sw.COLORS["red"]  # a smear that is no ShapesWorld shape
    arr[28:36, 28:36] = sw.BACKGROUNDS["white"]
    assert sw.read_scene(arr).exact is None


def test_scoring():
    rng = random.Random(5)
    pair = sw.random_pair(rng, kind="recolor")
    good = sw.score_edit(sw.render(pair.target), pair.source, pair.target, "recolor")
    assert good.success and good.l1 == 0.0 and good.l1_kept == 0.0
    copy = sw.score_edit(sw.render(pair.source), pair.source, pair.target, "recolor")
    assert not copy.success and copy.l1 > 0 and copy.l1_kept == 0.0
    summary = sw.summarize([good, copy])
    assert summary["overall"]["success"] == 0.5 and summary["per_type"]["recolor"]["n"] == 2


def test_splits_are_disjoint():
    rng = random.Random(6)
    train = [sw.random_scene(rng, split="train") for _ in range(300)]
    evals = [sw.random_scene(rng, split="eval") for _ in range(300)]
    assert all(sw.scene_split(s) == "train" for s in train)
    sw.check_disjoint(train, evals)
    with pytest.raises(sw.SceneError):
        sw.check_disjoint(train, train[:1])
    pairs = [sw.random_pair(rng, split="eval") for _ in range(50)]
    assert all(sw.scene_split(p.source) == sw.scene_split(p.target) == "eval" for p in pairs)
