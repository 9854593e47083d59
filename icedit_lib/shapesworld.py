"""ShapesWorld v1: the course's miniature editing world (spec: docs/shapesworld_spec.md, the
course's pixel-exact contract).

Everything here follows the spec to the pixel: scenes, rendering, the eight edit
types, referring phrases and training templates. What the spec leaves to the
project lives here too: descriptive captions (no imperatives: that is the
pretraining corpus's register), random generation with seeds, reading a scene
back out of pixels, and scoring.

Why a synthetic world: every edit has an exact ground truth, so "did the edit
succeed?" is a parser call instead of a GPT-4o opinion (paper section 4's GPT
score). The parser is the evaluator; it is never used as the early-filter judge.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .diptych import DIPTYCH_PREFIX, SAME_AS_LEFT

# --------------------------------------------------------------------------- canvas
PANEL = 64
CELLS: dict[str, tuple[int, int]] = {
    "top left": (11, 11), "top": (32, 11), "top right": (53, 11),
    "left": (11, 32), "center": (32, 32), "right": (53, 32),
    "bottom left": (11, 53), "bottom": (32, 53), "bottom right": (53, 53),
}
SIZES: dict[str, int] = {"small": 5, "large": 9}
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 50, 47), "green": (64, 160, 43), "blue": (38, 110, 220),
    "yellow": (240, 200, 30), "purple": (140, 70, 190), "orange": (245, 130, 30),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 245), "gray": (128, 128, 128), "black": (20, 20, 20),
}
SHAPES = ("circle", "square", "triangle", "diamond")
STYLES = ("filled", "outline")
EDIT_TYPES = ("add", "remove", "recolor", "resize", "replace", "move", "background", "restyle")
MAX_OBJECTS = 4
OUTLINE_WIDTH = 3


class SceneError(ValueError):
    """A scene or an edit that breaks the ShapesWorld spec."""


# --------------------------------------------------------------------------- scenes
@dataclass(frozen=True)
class Obj:
    shape: str
    color: str
    size: str
    cell: str

    def __post_init__(self):
        for name, value, allowed in (("shape", self.shape, SHAPES), ("color", self.color, COLORS),
                                     ("size", self.size, SIZES), ("cell", self.cell, CELLS)):
            if value not in allowed:
                raise SceneError(f"unknown {name} {value!r}; expected one of {sorted(allowed)}")

    def to_dict(self) -> dict:
        return {"shape": self.shape, "color": self.color, "size": self.size, "cell": self.cell}


@dataclass(frozen=True)
class Scene:
    """A background, a global style and 1-4 objects in distinct cells.

    Equality ignores the order of `objects` (spec: scenes are equal as sets)."""
    background: str
    style: str
    objects: tuple[Obj, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.background not in BACKGROUNDS:
            raise SceneError(f"unknown background {self.background!r}; expected one of {sorted(BACKGROUNDS)}")
        if self.style not in STYLES:
            raise SceneError(f"unknown style {self.style!r}; expected one of {list(STYLES)}")
        object.__setattr__(self, "objects", tuple(self.objects))
        if not 1 <= len(self.objects) <= MAX_OBJECTS:
            raise SceneError(f"a scene holds 1 to {MAX_OBJECTS} objects, got {len(self.objects)}")
        cells = [o.cell for o in self.objects]
        if len(set(cells)) != len(cells):
            raise SceneError(f"two objects share a cell: {cells}")

    def __eq__(self, other):
        return (isinstance(other, Scene) and self.background == other.background
                and self.style == other.style and set(self.objects) == set(other.objects))

    def __hash__(self):
        return hash((self.background, self.style, frozenset(self.objects)))

    def object_at(self, cell: str) -> Obj | None:
        return next((o for o in self.objects if o.cell == cell), None)

    def empty_cells(self) -> list[str]:
        used = {o.cell for o in self.objects}
        return [c for c in CELLS if c not in used]

    def sorted_objects(self) -> list[Obj]:
        """Objects in reading order of their cells (a canonical order for captions)."""
        order = list(CELLS)
        return sorted(self.objects, key=lambda o: order.index(o.cell))

    def to_dict(self) -> dict:
        return {"background": self.background, "style": self.style,
                "objects": [o.to_dict() for o in self.objects]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict) -> "Scene":
        if not isinstance(d, dict):
            raise SceneError(f"a scene is a JSON object, got {type(d).__name__}")
        missing = {"background", "style", "objects"} - set(d)
        if missing:
            raise SceneError(f"scene is missing {sorted(missing)}")
        try:
            objects = [Obj(**o) for o in d["objects"]]
        except TypeError as e:
            raise SceneError(f"bad object in scene: {e}") from None
        return cls(d["background"], d["style"], tuple(objects))

    @classmethod
    def from_json(cls, text: str) -> "Scene":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise SceneError(f"scene is not valid JSON: {e}") from None


# --------------------------------------------------------------------------- rendering
def _draw_object(draw: ImageDraw.ImageDraw, obj: Obj, style: str, color=None) -> None:
    cx, cy = CELLS[obj.cell]
    r = SIZES[obj.size]
    rgb = COLORS[obj.color] if color is None else color
    kw = {"fill": rgb} if style == "filled" else {"outline": rgb, "width": OUTLINE_WIDTH}
    if obj.shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], **kw)
    elif obj.shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], **kw)
    elif obj.shape == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], **kw)
    else:  # diamond
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], **kw)


def render(scene: Scene) -> Image.Image:
    """The 64 x 64 RGB panel of `scene`, pixel-exact per the spec (Pillow, no anti-aliasing)."""
    img = Image.new("RGB", (PANEL, PANEL), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(img)
    for obj in scene.objects:
        _draw_object(draw, obj, scene.style)
    return img


def render_diptych(left: Scene, right: Scene) -> Image.Image:
    """Two panels side by side, 128 x 64."""
    img = Image.new("RGB", (2 * PANEL, PANEL))
    img.paste(render(left), (0, 0))
    img.paste(render(right), (PANEL, 0))
    return img


# --------------------------------------------------------------------------- edits
@dataclass(frozen=True)
class Edit:
    """One of the eight edit types. `target` is the source object acted on (None for
    add / background / restyle); `value` is the new object (add), color, shape, cell
    or background; resize and restyle need no value (they flip)."""
    kind: str
    target: Obj | None = None
    value: object = None

    def to_dict(self) -> dict:
        value = self.value.to_dict() if isinstance(self.value, Obj) else self.value
        return {"kind": self.kind, "target": self.target.to_dict() if self.target else None, "value": value}


def apply_edit(scene: Scene, edit: Edit) -> Scene:
    """The target scene; raises SceneError if the edit breaks a constraint of the spec."""
    k, t, v = edit.kind, edit.target, edit.value
    if k not in EDIT_TYPES:
        raise SceneError(f"unknown edit type {k!r}; expected one of {list(EDIT_TYPES)}")
    if k in ("remove", "recolor", "resize", "replace", "move") and t not in scene.objects:
        raise SceneError(f"{k}: {t} is not in the scene")
    others = tuple(o for o in scene.objects if o != t)
    if k == "add":
        if not isinstance(v, Obj) or scene.object_at(v.cell) is not None:
            raise SceneError("add: the new object's cell must be empty")
        return replace(scene, objects=scene.objects + (v,))
    if k == "remove":
        if len(scene.objects) < 2:
            raise SceneError("remove: at least one object must remain")
        return replace(scene, objects=others)
    if k == "recolor":
        if v == t.color:
            raise SceneError("recolor: the new color must differ")
        return replace(scene, objects=others + (replace(t, color=v),))
    if k == "resize":
        return replace(scene, objects=others + (replace(t, size="small" if t.size == "large" else "large"),))
    if k == "replace":
        if v == t.shape:
            raise SceneError("replace: the new shape must differ")
        return replace(scene, objects=others + (replace(t, shape=v),))
    if k == "move":
        if scene.object_at(v) is not None:
            raise SceneError("move: the new cell must be empty")
        return replace(scene, objects=others + (replace(t, cell=v),))
    if k == "background":
        if v == scene.background:
            raise SceneError("background: the new background must differ")
        return replace(scene, background=v)
    return replace(scene, style="outline" if scene.style == "filled" else "filled")


def possible_edit_types(scene: Scene) -> list[str]:
    """Edit types that have at least one valid edit on `scene`."""
    kinds = ["recolor", "resize", "replace", "background", "restyle"]
    if len(scene.objects) < MAX_OBJECTS:
        kinds += ["add", "move"]
    if len(scene.objects) > 1:
        kinds.append("remove")
    return [k for k in EDIT_TYPES if k in kinds]


# --------------------------------------------------------------------------- splits
# Training and evaluation scenes never overlap (spec): a fixed hash of the canonical
# scene puts 1 scene in HELDOUT_MODULUS in the evaluation split. Training samplers
# reject those scenes, evaluation suites use only them, so any suite drawn with any
# seed is disjoint from any training run, and `check_disjoint` verifies it.
HELDOUT_MODULUS = 8
SPLITS = ("train", "eval")


def scene_key(scene: Scene) -> str:
    """Canonical text of a scene (objects sorted), equal for equal scenes."""
    objs = sorted((o.cell, o.shape, o.color, o.size) for o in scene.objects)
    return f"{scene.background}|{scene.style}|" + ";".join(",".join(o) for o in objs)


def scene_split(scene: Scene) -> str:
    digest = hashlib.sha1(scene_key(scene).encode()).digest()
    return "eval" if int.from_bytes(digest[:4], "big") % HELDOUT_MODULUS == 0 else "train"


def check_disjoint(train_scenes: Iterable[Scene], eval_scenes: Iterable[Scene]) -> None:
    """Raise SceneError if any scene appears in both collections."""
    shared = {scene_key(s) for s in train_scenes} & {scene_key(s) for s in eval_scenes}
    if shared:
        raise SceneError(f"{len(shared)} scenes are in both the training and the evaluation set, e.g. {min(shared)}")


def random_scene(rng: random.Random, n_objects: int | None = None, split: str | None = None) -> Scene:
    """A uniformly random scene; with `split`, redrawn until it belongs to that split."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    while True:
        n = n_objects or rng.randint(1, MAX_OBJECTS)
        cells = rng.sample(list(CELLS), n)
        objects = tuple(Obj(rng.choice(SHAPES), rng.choice(list(COLORS)), rng.choice(list(SIZES)), c) for c in cells)
        scene = Scene(rng.choice(list(BACKGROUNDS)), rng.choice(STYLES), objects)
        if split is None or scene_split(scene) == split:
            return scene


def random_edit(scene: Scene, rng: random.Random, kind: str | None = None) -> Edit:
    """A uniformly chosen valid edit of `kind` (or of a random possible type)."""
    kinds = possible_edit_types(scene)
    kind = kind or rng.choice(kinds)
    if kind not in kinds:
        raise SceneError(f"no valid {kind} edit on this scene")
    if kind == "add":
        return Edit("add", value=Obj(rng.choice(SHAPES), rng.choice(list(COLORS)), rng.choice(list(SIZES)),
                                     rng.choice(scene.empty_cells())))
    if kind == "background":
        return Edit("background", value=rng.choice([b for b in BACKGROUNDS if b != scene.background]))
    if kind == "restyle":
        return Edit("restyle")
    target = rng.choice(scene.sorted_objects())
    value = {"remove": None, "resize": None,
             "recolor": lambda: rng.choice([c for c in COLORS if c != target.color]),
             "replace": lambda: rng.choice([s for s in SHAPES if s != target.shape]),
             "move": lambda: rng.choice(scene.empty_cells())}[kind]
    return Edit(kind, target, value() if value else None)


# --------------------------------------------------------------------------- language
def referring_phrase(scene: Scene, obj: Obj) -> str:
    """The shortest phrase, in the spec's order, that picks out exactly `obj`."""
    candidates = (
        (lambda o: f"the {o.shape}"),
        (lambda o: f"the {o.color} {o.shape}"),
        (lambda o: f"the {o.size} {o.color} {o.shape}"),
        (lambda o: f"the {o.shape} at the {o.cell}"),
        (lambda o: f"the {o.color} {o.shape} at the {o.cell}"),
    )
    for phrase in candidates:
        if [phrase(o) for o in scene.objects].count(phrase(obj)) == 1:
            return phrase(obj)
    raise SceneError(f"{obj} is not in the scene")


# Training templates, verbatim from the spec. Resize and restyle have one list per direction.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "add": ("add a {size} {color} {shape} at the {cell}", "put a {size} {color} {shape} at the {cell}"),
    "remove": ("remove {ref}", "delete {ref}", "take away {ref}"),
    "recolor": ("make {ref} {color}", "change the color of {ref} to {color}", "paint {ref} {color}"),
    "resize_up": ("make {ref} bigger", "enlarge {ref}"),
    "resize_down": ("make {ref} smaller", "shrink {ref}"),
    "replace": ("turn {ref} into a {shape}", "replace {ref} with a {shape}", "change {ref} to a {shape}"),
    "move": ("move {ref} to the {cell}", "put {ref} at the {cell}"),
    "background": ("change the background to {background}", "make the background {background}"),
    "restyle_outline": ("draw the shapes as outlines", "turn the shapes into outlines"),
    "restyle_filled": ("fill in the shapes", "make the shapes solid"),
}


def _template_key(scene: Scene, edit: Edit) -> str:
    if edit.kind == "resize":
        return "resize_up" if edit.target.size == "small" else "resize_down"
    if edit.kind == "restyle":
        return "restyle_outline" if scene.style == "filled" else "restyle_filled"
    return edit.kind


def instruction(scene: Scene, edit: Edit, rng: random.Random | None = None, template: int = 0) -> str:
    """An imperative training instruction for `edit` on `scene` (a random template if `rng`)."""
    options = TEMPLATES[_template_key(scene, edit)]
    text = rng.choice(options) if rng else options[template % len(options)]
    ref = referring_phrase(scene, edit.target) if edit.target else ""
    v = edit.value
    fields = {"ref": ref}
    if isinstance(v, Obj):
        fields.update(size=v.size, color=v.color, shape=v.shape, cell=v.cell)
    elif edit.kind == "recolor":
        fields["color"] = v
    elif edit.kind == "replace":
        fields["shape"] = v
    elif edit.kind == "move":
        fields["cell"] = v
    elif edit.kind == "background":
        fields["background"] = v
    return text.format(**fields)


# Descriptive captions: the register of web alt-text, the pretraining corpus of the
# miniature FLUX. Grammar (documented in notebook 02):
#   panel   := "{style phrase} on a {background} background: {object list}"
#   object  := "a {size} {color} {shape} at the {cell}"
#   change  := a declarative clause, e.g. "the red circle is blue" (never an imperative)
#   diptych := DIPTYCH_PREFIX ["On the left, " panel ". "] "On the right, the scene is exactly
#              the same as on the left" [" but " change]
STYLE_PHRASE = {"filled": "filled shapes", "outline": "outlined shapes"}


def describe_object(obj: Obj) -> str:
    return f"a {obj.size} {obj.color} {obj.shape} at the {obj.cell}"


def describe_scene(scene: Scene) -> str:
    """A descriptive caption of one panel, objects in reading order."""
    parts = [describe_object(o) for o in scene.sorted_objects()]
    listing = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{STYLE_PHRASE[scene.style]} on a {scene.background} background: {listing}"


def describe_change(scene: Scene, edit: Edit) -> str:
    """A declarative clause saying how the edited scene differs: no imperative verbs."""
    k, t, v = edit.kind, edit.target, edit.value
    ref = referring_phrase(scene, t) if t else ""
    if k == "add":
        return f"there is also {describe_object(v)}"
    if k == "remove":
        return f"{ref} is gone"
    if k == "recolor":
        return f"{ref} is {v}"
    if k == "resize":
        return f"{ref} is {'larger' if t.size == 'small' else 'smaller'}"
    if k == "replace":
        return f"{ref} is a {v}"
    if k == "move":
        return f"{ref} is at the {v}"
    if k == "background":
        return f"the background is {v}"
    return "the shapes are drawn as outlines" if scene.style == "filled" else "the shapes are filled"


def diptych_caption(scene: Scene, edit: Edit | None = None, describe_left: bool = False) -> str:
    """The descriptive caption of a (scene | edited scene) diptych; `edit=None` for identical halves."""
    text = DIPTYCH_PREFIX
    if describe_left:
        text += f" On the left, {describe_scene(scene)}."
    text += " " + SAME_AS_LEFT
    return text + (f" but {describe_change(scene, edit)}." if edit else ".")


@dataclass(frozen=True)
class EditPair:
    source: Scene
    edit: Edit
    target: Scene
    instruction: str


def random_pair(rng: random.Random, kind: str | None = None, split: str | None = None) -> EditPair:
    """A random (source, edit, target, instruction) with a random training template;
    with `split`, source and target both belong to it."""
    while True:
        src = random_scene(rng, split=split)
        if kind is not None and kind not in possible_edit_types(src):
            continue
        edit = random_edit(src, rng, kind)
        tgt = apply_edit(src, edit)
        if split is None or scene_split(tgt) == split:
            return EditPair(src, edit, tgt, instruction(src, edit, rng))


# --------------------------------------------------------------------------- reading pixels
@dataclass(frozen=True)
class SceneReading:
    """What the parser saw. `scene` is its best guess (None if nothing valid could be
    assembled); `clean` is False when some region did not look like any ShapesWorld
    object (a blob, a smear, stray paint); `issues` says where."""
    scene: Scene | None
    clean: bool
    issues: tuple[str, ...] = ()

    @property
    def exact(self) -> Scene | None:
        """The scene, only if the reading was clean: what scoring compares."""
        return self.scene if self.clean else None


_WINDOW = 10  # cell windows [c-10, c+10] tile the panel without overlap
_PALETTE_NAMES = list(COLORS) + list(BACKGROUNDS)
_PALETTE = np.array([COLORS[c] for c in COLORS] + [BACKGROUNDS[b] for b in BACKGROUNDS], dtype=np.float32)
_MAX_COLOR_DISTANCE = 60.0  # RGB distance beyond which a pixel matches no palette color
_MIN_TEMPLATE_AGREEMENT = 0.85  # share of window pixels a parsed object must explain
_STRAY_PIXELS = 6  # paint outside objects beyond this makes a reading unclean


@lru_cache(maxsize=None)
def _template(shape: str, size: str, style: str, cell: str) -> np.ndarray:
    """Boolean mask of one object's pixels, cropped to its cell window."""
    img = Image.new("L", (PANEL, PANEL), 0)
    _draw_object(ImageDraw.Draw(img), Obj(shape, "red", size, cell), style, color=255)
    cx, cy = CELLS[cell]
    return np.asarray(img)[cy - _WINDOW:cy + _WINDOW + 1, cx - _WINDOW:cx + _WINDOW + 1] > 0


def _to_array(image) -> np.ndarray:
    if isinstance(image, Image.Image):
        if image.size != (PANEL, PANEL):
            image = image.convert("RGB").resize((PANEL, PANEL), Image.NEAREST)
        return np.asarray(image.convert("RGB"), dtype=np.float32)
    arr = np.asarray(image, dtype=np.float32)
    if arr.shape != (PANEL, PANEL, 3):
        raise SceneError(f"expected a {PANEL}x{PANEL} RGB panel, got array of shape {arr.shape}")
    return arr * 255.0 if arr.max() <= 1.0 else arr


def classify_pixels(image) -> np.ndarray:
    """Index into COLORS + BACKGROUNDS of each pixel's nearest palette color, -1 if none is near."""
    arr = _to_array(image)
    dist = np.linalg.norm(arr[:, :, None, :] - _PALETTE[None, None], axis=-1)
    idx = dist.argmin(-1)
    idx[dist.min(-1) > _MAX_COLOR_DISTANCE] = -1
    return idx


def read_scene(image) -> SceneReading:
    """Read a scene back from a 64 x 64 panel.

    Robust to generative noise: pixels are snapped to the nearest palette color; the
    background is the most common background color; in each cell window, object paint
    of the dominant object color is matched against the rendered masks of every
    (shape, size, style). The global style is the majority vote over objects, then the
    shapes are re-fitted under it. A reading is clean when every occupied window is
    explained by a template to at least 85% of its pixels and little stray paint remains.
    """
    idx = classify_pixels(image)
    n_obj = len(COLORS)
    bg_counts = [(idx == n_obj + i).sum() for i in range(len(BACKGROUNDS))]
    background = list(BACKGROUNDS)[int(np.argmax(bg_counts))]
    issues: list[str] = []
    if (idx == -1).mean() > 0.05:
        issues.append(f"{(idx == -1).mean():.0%} of pixels match no palette color")

    min_area = min(_template(s, "small", "outline", "center").sum() for s in SHAPES)
    found: dict[str, tuple[str, np.ndarray]] = {}
    for cell, (cx, cy) in CELLS.items():
        win = idx[cy - _WINDOW:cy + _WINDOW + 1, cx - _WINDOW:cx + _WINDOW + 1]
        counts = np.bincount(win[(win >= 0) & (win < n_obj)].ravel(), minlength=n_obj)
        if counts.sum() < 0.5 * min_area:
            if counts.sum() > _STRAY_PIXELS:
                issues.append(f"stray paint at the {cell}")
            continue
        color = int(counts.argmax())
        if counts.sum() - counts[color] > _STRAY_PIXELS:
            issues.append(f"mixed colors at the {cell}")
        found[cell] = (list(COLORS)[color], win == color)
    if not found:
        return SceneReading(None, False, tuple(issues + ["no objects"]))

    def fit(mask, cell, styles):
        scores = {(s, z, st): (_template(s, z, st, cell) == mask).mean()
                  for s in SHAPES for z in SIZES for st in styles}
        best = max(scores, key=scores.get)
        return best, scores[best]

    votes = [fit(mask, cell, STYLES)[0][2] for cell, (_, mask) in found.items()]
    style = max(STYLES, key=votes.count) if votes.count("filled") != votes.count("outline") else "filled"
    objects = []
    for cell, (color, mask) in found.items():
        (shape, size, _), agreement = fit(mask, cell, (style,))
        if agreement < _MIN_TEMPLATE_AGREEMENT:
            issues.append(f"the object at the {cell} matches no shape ({agreement:.0%})")
        objects.append(Obj(shape, color, size, cell))
    try:
        scene = Scene(background, style, tuple(objects[:MAX_OBJECTS]))
    except SceneError as e:
        return SceneReading(None, False, tuple(issues + [str(e)]))
    if len(objects) > MAX_OBJECTS:
        issues.append(f"{len(objects)} objects, more than {MAX_OBJECTS}")
    return SceneReading(scene, not issues, tuple(issues))


# --------------------------------------------------------------------------- scoring
def to_unit_array(image) -> np.ndarray:
    """HxWx3 float array in [0, 1] (spec: L1 is on pixel values in [0, 1])."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return np.asarray(image, dtype=np.float32)


@dataclass(frozen=True)
class EditScore:
    success: bool
    l1: float
    l1_kept: float  # L1 on the pixels equal in source and target: untouched regions kept?
    edit_type: str


def score_edit(edited, source: Scene, target: Scene, edit_type: str) -> EditScore:
    """Spec's evaluation protocol for one edited 64 x 64 panel."""
    reading = read_scene(edited)
    out = to_unit_array(edited if not isinstance(edited, Image.Image) or edited.size == (PANEL, PANEL)
                        else edited.resize((PANEL, PANEL), Image.BICUBIC))
    src, tgt = to_unit_array(render(source)), to_unit_array(render(target))
    diff = np.abs(out - tgt)
    kept = (src == tgt).all(-1)
    l1_kept = float(diff[kept].mean()) if kept.any() else 0.0
    return EditScore(reading.exact == target, float(diff.mean()), l1_kept, edit_type)


def summarize(scores: Iterable[EditScore]) -> dict:
    """Success, L1 and kept-pixel L1, overall and per edit type."""
    scores = list(scores)

    def agg(group: Sequence[EditScore]) -> dict:
        return {"n": len(group), "success": float(np.mean([s.success for s in group])) if group else float("nan"),
                "l1": float(np.mean([s.l1 for s in group])) if group else float("nan"),
                "l1_kept": float(np.mean([s.l1_kept for s in group])) if group else float("nan")}

    per_type = {k: agg([s for s in scores if s.edit_type == k]) for k in EDIT_TYPES
                if any(s.edit_type == k for s in scores)}
    return {"overall": agg(scores), "per_type": per_type}
