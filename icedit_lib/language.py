"""The miniature's language: its vocabulary, its text normalisation, and a labelled text corpus.

FLUX's T5 learned English before it ever saw an image; a text encoder trained only beside the
images (as the miniature's first encoders were) learns which words occur, not which object each
word belongs to. FLUX gives every text token the same position id (`txt_ids` are zeros), so that
binding, "red" belongs to the circle at the top left, must be carried by the token embeddings
themselves. This module is the stand-in for that language pretraining's data:

- `VOCABULARY`: the course's words, the words of the phrasings below, and a few hundred ordinary
  English words, so that what a user types is read as words, not cut into characters.
- `normalize`: lower case, punctuation to spaces (the tokenizers apply the same rule, see
  `miniature.build_tokenizer`), and `unknown_words`, the words a tokenizer would spell out.
- `random_text`: captions of scenes, descriptive diptych captions, instructions in many phrasings
  (verb synonyms, polite wrappers, questions, capitals, punctuation, extra words) and IC prompts,
  each with labels: per word, the object it belongs to (cell, shape, color, size, as far as the
  text states them) and its role; per text, the requested change, the background, the style and,
  when the text describes a whole scene, every cell's content. `pretrain_text` trains the encoders
  to read these labels off their outputs; its linear probe measures binding on held-out text.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from . import shapesworld as sw
from .diptych import DIPTYCH_PREFIX, IC_TEMPLATE, SAME_AS_LEFT

# --------------------------------------------------------------------------- normalisation
_PUNCTUATION = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """What the miniature's tokenizers read: lower case, every run of characters other than
    letters and digits made a space. ("Could you make the BACKGROUND white?? :)" ->
    "could you make the background white")."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()


class UnknownWordsWarning(UserWarning):
    """An instruction holds words the miniature's word-level tokenizers do not know."""


def unknown_words(text: str, tokenizer=None) -> list[str]:
    """The words of `text` that a word-level tokenizer spells out letter by letter (so the model
    never learned to read them), in order, without repeats (whatever their case). Without `tokenizer`, the words missing
    from `VOCABULARY` (what `miniature.build_tokenizer` gives one token each)."""
    if tokenizer is None:
        words, known = normalize(text).split(), VOCABULARY_SET.__contains__
    else:
        words, known = re.findall(r"[^\W_]+", text), (lambda w: len(tokenizer.tokenize(w)) == 1)
    out: list[str] = []
    for word in words:
        if not known(word) and word.lower() not in map(str.lower, out):
            out.append(word)
    return out


# --------------------------------------------------------------------------- phrasings
CELL_SYNONYMS = {"top left": ("top left", "upper left"), "top right": ("top right", "upper right"),
                 "bottom left": ("bottom left", "lower left"), "bottom right": ("bottom right", "lower right"),
                 "center": ("center", "middle", "centre"), "top": ("top",), "bottom": ("bottom",),
                 "left": ("left",), "right": ("right",)}
SIZE_SYNONYMS = {"small": ("small", "little", "tiny"), "large": ("large", "big")}
BACKGROUND_SYNONYMS = {"gray": ("gray", "grey"), "white": ("white",), "black": ("black",)}

# Instruction verbs per edit type beyond the spec's templates. {ref}: a referring phrase,
# {obj}: a described new object, {cell}, {color}, {shape}, {background}: values.
VERBS = {
    "add": ("add a {obj} at the {cell}", "put a {obj} at the {cell}", "place a {obj} in the {cell}",
            "draw a {obj} at the {cell}", "insert a {obj} at the {cell}", "there should be a {obj} at the {cell}",
            "i want a {obj} at the {cell}"),
    "remove": ("remove {ref}", "delete {ref}", "take away {ref}", "erase {ref}", "get rid of {ref}",
               "take out {ref}", "remove {ref} from the picture", "i do not want {ref}"),
    "recolor": ("make {ref} {color}", "change the color of {ref} to {color}", "paint {ref} {color}",
                "color {ref} {color}", "recolor {ref} to {color}", "turn {ref} {color}", "{ref} should be {color}",
                "i want {ref} to be {color}", "change the colour of {ref} to {color}"),
    "resize_up": ("make {ref} bigger", "enlarge {ref}", "make {ref} larger", "increase the size of {ref}",
                  "scale up {ref}", "grow {ref}", "{ref} should be bigger"),
    "resize_down": ("make {ref} smaller", "shrink {ref}", "reduce the size of {ref}", "scale down {ref}",
                    "make {ref} a bit smaller", "{ref} should be smaller"),
    "replace": ("turn {ref} into a {shape}", "replace {ref} with a {shape}", "change {ref} to a {shape}",
                "swap {ref} for a {shape}", "make {ref} a {shape}", "{ref} should be a {shape}",
                "change the shape of {ref} to a {shape}"),
    "move": ("move {ref} to the {cell}", "put {ref} at the {cell}", "shift {ref} to the {cell}",
             "drag {ref} to the {cell}", "place {ref} in the {cell}", "slide {ref} over to the {cell}",
             "{ref} should be at the {cell}"),
    "background": ("change the background to {background}", "make the background {background}",
                   "set the background to {background}", "use a {background} background",
                   "paint the background {background}", "the background should be {background}",
                   "switch to a {background} background"),
    "restyle_outline": ("draw the shapes as outlines", "turn the shapes into outlines", "make the shapes hollow",
                        "only draw the outlines of the shapes", "make every shape an outline",
                        "draw outlines instead of filled shapes"),
    "restyle_filled": ("fill in the shapes", "make the shapes solid", "fill the shapes",
                       "make every shape filled", "draw the shapes filled instead of outlined", "color in the shapes"),
}
POLITE_PREFIXES = ("please ", "could you ", "can you ", "would you ", "could you please ", "can you please ",
                   "i would like you to ", "i want you to ", "kindly ", "now ", "ok ", "hey ", "hi ", "just ",
                   "go ahead and ", "try to ", "help me ")
POLITE_SUFFIXES = (" please", " thanks", " thank you", " for me", " now", " in the picture", " in the image",
                   " if you can", " thanks a lot", " quickly", " ok")
ENDINGS = (".", "!", "?", "??", "!!", " :)", "...", " !", ". thanks!")


# --------------------------------------------------------------------------- labels
TOKEN_FIELDS: dict[str, tuple[str, ...]] = {
    # the object a word belongs to, as far as the text states it
    "cell": ("none", "unstated") + tuple(sw.CELLS),
    "shape": ("none", "unstated") + sw.SHAPES,
    "color": ("none", "unstated") + tuple(sw.COLORS),
    "size": ("none", "unstated") + tuple(sw.SIZES),
    "role": ("none", "object", "referent", "new"),  # described; acted on by an edit; added by an edit
}
VALUES = (("none",) + tuple(sw.COLORS) + sw.SHAPES + tuple(f"cell {c}" for c in sw.CELLS) +
          tuple(f"background {b}" for b in sw.BACKGROUNDS) + ("larger", "smaller", "to outline", "to filled"))
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    # what the whole text says, carried by every token and by the pooled vector
    "edit": ("none",) + sw.EDIT_TYPES,
    "value": VALUES,
    "background": ("unstated",) + tuple(sw.BACKGROUNDS),
    "style": ("unstated",) + sw.STYLES,
}
CELL_FIELDS: dict[str, tuple[str, ...]] = {
    # a described scene, cell by cell (only texts that describe a whole scene carry these)
    "shape": ("empty",) + sw.SHAPES, "color": ("empty",) + tuple(sw.COLORS), "size": ("empty",) + tuple(sw.SIZES),
}
IGNORE = -100  # the label of a field a text does not determine (cross-entropy's ignore_index)
ATTRIBUTE_WORDS: dict[str, str] = ({w: "cell" for ps in CELL_SYNONYMS.values() for p in ps for w in p.split()} |
                                   {w: "size" for ps in SIZE_SYNONYMS.values() for w in ps} |
                                   {w: "shape" for w in sw.SHAPES} | {w: "color" for w in sw.COLORS})


@dataclass
class Word:
    text: str
    labels: dict[str, int] | None = None  # TOKEN_FIELDS indices; None: not part of an object mention
    attribute: str | None = None  # the attribute of its object the word names: "cell", "shape", "color" or "size"


@dataclass
class LabelledText:
    """A text as words with per-word object labels, and the labels of the whole text."""
    words: list[Word]
    text_labels: dict[str, int]
    scene: sw.Scene | None = None  # the whole scene the text describes, if it does
    kind: str = "caption"
    string: str = field(init=False, default="")
    spans: list[tuple[int, int]] = field(init=False, default_factory=list)

    def __post_init__(self):
        out, spans = "", []
        for w in self.words:
            if out and not w.text[:1] in ",.:;!?)":
                out += " "
            spans.append((len(out), len(out) + len(w.text)))
            out += w.text
        self.string, self.spans = out, spans

    def cell_labels(self) -> dict[str, list[int]]:
        """Per field, the 9 cells' classes (reading order), or IGNORE if no whole scene is described."""
        out = {}
        for name, classes in CELL_FIELDS.items():
            if self.scene is None:
                out[name] = [IGNORE] * len(sw.CELLS)
                continue
            out[name] = [classes.index(getattr(o, name)) if (o := self.scene.object_at(c)) else 0 for c in sw.CELLS]
        return out


def _object_labels(obj: sw.Obj, role: str, stated: set[str]) -> dict[str, int]:
    labels = {"role": TOKEN_FIELDS["role"].index(role)}
    for name in ("cell", "shape", "color", "size"):
        labels[name] = TOKEN_FIELDS[name].index(getattr(obj, name) if name in stated else "unstated")
    return labels


def _words(text: str, labels=None, attribute_words: dict[str, str] | None = None) -> list[Word]:
    return [Word(t, labels, (attribute_words or {}).get(t)) for t in text.split()]


def _mention(obj: sw.Obj, role: str, parts: tuple[str, ...], rng: random.Random, article: str = "the",
             cell_prep: str = "at the", synonyms: bool = True) -> list[Word]:
    """Words naming `obj` by its shape and the attributes in `parts` (cell last), each word
    labelled with the object and what the words state of it."""
    labels = _object_labels(obj, role, set(parts) | {"shape"})
    pick = (lambda options: rng.choice(options)) if synonyms else (lambda options: options[0])
    text = [article] if article else []
    if "size" in parts:
        text.append(pick(SIZE_SYNONYMS[obj.size]))
    if "color" in parts:
        text.append(obj.color)
    text.append(obj.shape)
    if "cell" in parts:
        text += cell_prep.split() + [pick(CELL_SYNONYMS[obj.cell])]
    return _words(" ".join(text), labels, ATTRIBUTE_WORDS)


# The spec's referring phrases, in its order, as the attributes they name beside the shape.
REFERENT_PARTS = ((), ("color",), ("size", "color"), ("cell",), ("color", "cell"), ("size", "color", "cell"))


def _unique(scene: sw.Scene, obj: sw.Obj, parts: tuple[str, ...]) -> bool:
    return sum(all(getattr(o, a) == getattr(obj, a) for a in parts + ("shape",)) for o in scene.objects) == 1


def _referent(scene: sw.Scene, obj: sw.Obj, rng: random.Random, spec: bool) -> list[Word]:
    """The spec's shortest referring phrase (`shapesworld.referring_phrase`); unless `spec`, sometimes
    a longer one that is unique too, with synonyms."""
    parts = next(p for p in REFERENT_PARTS[:5] if _unique(scene, obj, p))
    if not spec and rng.random() < 0.3:
        parts = rng.choice([p for p in REFERENT_PARTS if _unique(scene, obj, p)])
    return _mention(obj, "referent", parts, rng, synonyms=not spec)


def _text_labels(edit: str = "none", value: str = "none", background: str = "unstated",
                 style: str = "unstated") -> dict[str, int]:
    return {"edit": TEXT_FIELDS["edit"].index(edit), "value": TEXT_FIELDS["value"].index(value),
            "background": TEXT_FIELDS["background"].index(background),
            "style": TEXT_FIELDS["style"].index(style)}


def _edit_value(scene: sw.Scene, edit: sw.Edit) -> str:
    k, v = edit.kind, edit.value
    if k in ("recolor", "replace"):
        return v
    if k == "move":
        return f"cell {v}"
    if k == "background":
        return f"background {v}"
    if k == "resize":
        return "larger" if edit.target.size == "small" else "smaller"
    if k == "restyle":
        return "to outline" if scene.style == "filled" else "to filled"
    return "none"


# --------------------------------------------------------------------------- descriptions
STYLE_WORDS = {"filled": ("filled shapes", "solid shapes"), "outline": ("outlined shapes", "shape outlines")}


def scene_words(scene: sw.Scene, rng: random.Random, canonical: bool) -> list[Word]:
    """A description of one panel: `shapesworld.describe_scene`'s grammar when `canonical`
    (the pretraining captions), else a variant (object order, style phrase, prepositions)."""
    objects = scene.sorted_objects()
    style = sw.STYLE_PHRASE[scene.style] if canonical else rng.choice(STYLE_WORDS[scene.style])
    if not canonical:
        rng.shuffle(objects)
    listing: list[Word] = []
    for i, o in enumerate(objects):
        if i:
            listing += [Word(",")] if i < len(objects) - 1 else _words("and")
        prep = "at the" if canonical else rng.choice(("at the", "in the", "at the"))
        listing += _mention(o, "object", ("size", "color", "cell"), rng, article="a", cell_prep=prep,
                            synonyms=not canonical)
    background = scene.background if canonical else rng.choice(BACKGROUND_SYNONYMS[scene.background])
    if canonical or rng.random() < 0.5:
        return _words(f"{style} on a {background} background") + [Word(":")] + listing
    return listing + _words(f"on a {background} background , drawn as {style}")


def caption(scene: sw.Scene, rng: random.Random, canonical: bool = True) -> LabelledText:
    words = scene_words(scene, rng, canonical)
    if canonical:
        words[0].text = words[0].text.capitalize()
        words.append(Word("."))
    return LabelledText(words, _text_labels(background=scene.background, style=scene.style), scene, "caption")


def change_words(scene: sw.Scene, edit: sw.Edit, rng: random.Random) -> list[Word]:
    """`shapesworld.describe_change`'s declarative clause, with labelled words."""
    k, t, v = edit.kind, edit.target, edit.value
    if k == "add":
        return _words("there is also") + _mention(v, "new", ("size", "color", "cell"), rng, article="a")
    if k in ("background", "restyle"):
        return _words(sw.describe_change(scene, edit))
    ref = _referent(scene, t, rng, spec=rng.random() < 0.5)
    tail = {"remove": "is gone", "recolor": f"is {v}", "replace": f"is a {v}", "move": f"is at the {v}",
            "resize": f"is {'larger' if t.size == 'small' else 'smaller'}"}[k]
    return ref + _words(tail)


def diptych(scene: sw.Scene, edit: sw.Edit | None, rng: random.Random, describe_left: bool) -> LabelledText:
    """`shapesworld.diptych_caption`, labelled: the left scene (if described) and the change."""
    words = _words(DIPTYCH_PREFIX)
    if describe_left:
        words += _words("On the left,") + scene_words(scene, rng, canonical=True) + [Word(".")]
    words += _words(SAME_AS_LEFT)
    if edit is None:
        labels = _text_labels(background=scene.background if describe_left else "unstated",
                              style=scene.style if describe_left else "unstated")
        return LabelledText(words + [Word(".")], labels, scene if describe_left else None, "diptych")
    words += _words("but") + change_words(scene, edit, rng) + [Word(".")]
    labels = _text_labels(edit.kind, _edit_value(scene, edit), scene.background if describe_left else "unstated",
                          scene.style if describe_left else "unstated")
    return LabelledText(words, labels, scene if describe_left else None, "diptych")


# --------------------------------------------------------------------------- instructions
def instruction_words(scene: sw.Scene, edit: sw.Edit, rng: random.Random, spec_template: bool) -> list[Word]:
    """An imperative for `edit`: one of the spec's templates, or one of `VERBS`' phrasings."""
    key = sw._template_key(scene, edit)
    template = rng.choice(sw.TEMPLATES[key] if spec_template else VERBS[key])
    if edit.kind == "add":
        template = template.replace("{size} {color} {shape}", "{obj}")
    k, t, v = edit.kind, edit.target, edit.value
    fills: dict[str, list[Word]] = {}
    if t is not None:
        fills["ref"] = _referent(scene, t, rng, spec=spec_template)
    if k == "add":
        parts = ("size", "color") if spec_template or rng.random() < 0.8 else ("color",)
        labels = _object_labels(v, "new", set(parts) | {"shape", "cell"})
        fills["obj"] = [Word(w.text, labels, w.attribute)
                        for w in _mention(v, "new", parts, rng, article="", synonyms=not spec_template)]
        fills["cell"] = _words(v.cell if spec_template else rng.choice(CELL_SYNONYMS[v.cell]), labels, ATTRIBUTE_WORDS)
    elif k == "move":
        fills["cell"] = _words(v if spec_template else rng.choice(CELL_SYNONYMS[v]))
    for name, value in (("color", v if k == "recolor" else None), ("shape", v if k == "replace" else None),
                        ("background", v if k == "background" else None)):
        if value is not None:
            fills[name] = _words(value if spec_template or name != "background"
                                 else rng.choice(BACKGROUND_SYNONYMS[value]))
    out: list[Word] = []
    for piece in re.split(r"(\{\w+\})", template):
        if piece.startswith("{"):
            out += fills[piece[1:-1]]
        elif piece.strip():
            out += _words(piece)
    return out


def instruction(scene: sw.Scene, edit: sw.Edit, rng: random.Random, plain: float = 0.3) -> LabelledText:
    """An instruction as people type it; with probability `plain` a spec template as it is."""
    labels = _text_labels(edit.kind, _edit_value(scene, edit))
    if rng.random() < plain:
        return LabelledText(instruction_words(scene, edit, rng, spec_template=True), labels, None, "instruction")
    words = instruction_words(scene, edit, rng, spec_template=False)
    imperative = words[0].labels is None and words[0].text not in ("there", "i", "the", "use", "switch")
    if imperative and rng.random() < 0.5:
        words = _words(rng.choice(POLITE_PREFIXES)) + words
    if rng.random() < 0.3:
        words += _words(rng.choice(POLITE_SUFFIXES))
    if rng.random() < 0.4:
        end = rng.choice(ENDINGS).split()
        words += [Word(end[0])] + _words(" ".join(end[1:]))
    _recase(words, rng)
    return LabelledText(words, labels, None, "instruction")


def _recase(words: list[Word], rng: random.Random) -> None:
    mode = rng.random()
    if mode < 0.2:
        words[0].text = words[0].text.capitalize()
    elif mode < 0.3:
        for w in words:
            w.text = w.text.upper()
    elif mode < 0.4:
        for w in words:
            w.text = w.text.capitalize()
    elif mode < 0.5:
        w = rng.choice(words)
        w.text = w.text.upper()


def ic_prompt(scene: sw.Scene, edit: sw.Edit, rng: random.Random) -> LabelledText:
    """The IC prompt (`diptych.IC_TEMPLATE`) around an instruction: what the fine-tuned editor reads."""
    inner = instruction(scene, edit, rng)
    head = IC_TEMPLATE.split("{instruction}")[0]
    return LabelledText(_words(head) + inner.words, inner.text_labels, None, "ic_prompt")


# --------------------------------------------------------------------------- the corpus
KINDS = ("caption", "caption_variant", "diptych", "instruction", "ic_prompt")


def random_text(rng: random.Random, split: str = "train", kind: str | None = None) -> LabelledText:
    """One labelled text of a random (or the given) kind, about a scene of `split`."""
    kind = kind or rng.choice(KINDS)
    if kind in ("caption", "caption_variant"):
        return caption(sw.random_scene(rng, split=split), rng, canonical=kind == "caption")
    pair = sw.random_pair(rng, split=split)
    if kind == "diptych":
        edit = None if rng.random() < 0.3 else pair.edit
        return diptych(pair.source, edit, rng, describe_left=len(pair.source.objects) <= 2 and rng.random() < 0.5)
    if kind == "instruction":
        return instruction(pair.source, pair.edit, rng)
    return ic_prompt(pair.source, pair.edit, rng)


# --------------------------------------------------------------------------- vocabulary
# Ordinary English a user may type around an instruction: function words, polite words, verbs
# of editing and drawing, nouns of pictures, and common adjectives. Any other word is spelled
# out by the tokenizers and named by `unknown_words`.
ENGLISH = """
a about above across actually add added after again against all almost along already also although always am
an and another any anything anywhere are around as ask at away back bad be because been before behind being
below beside best better between big bigger biggest bit both bottom box bright but by can cannot canvas center
centre change changed circle clean clear close color colored colors colour colour could corner corners
d dark darker delete did different do does doing done dont down draw drawing drawn each edge edit either else
empty enough even every everything exactly except fill filled find fine first fix for from front full get give
go good great green grey had half hand hard has have he hello help her here hey hi high him his hollow how i if
image images in inside instead into is it its just keep kind kindly large larger last leave left less let like
little look lot lots lower m make many maybe me middle might mine more most move much must my need new next nice
no none not nothing now object objects of off ok okay old on once one only onto or other our out outline outlines
over own paint part picture pictures place please point put quick quickly quite rather re really red remove
replace right round s same scene see set shape shapes she should show side simple size slightly small smaller so
solid some something space square still such sure switch t take than thank thanks that the their them then there
these they thing things think this those through thus tiny to too top towards try turn two under up upper us use
ve very want was way we well were what when where which while white who why will with without would yes yet you
your yours
able above across actual adjust after alter apply area art background black blue bold border change cell centered
clone color colorful copy create cut darken diamond draw drop dropped edge enlarge erase extra flip grow hide
highlight increase insert large lighten lighter line lines make modify near nearby opposite orange outlined
over paint photo position purple raise rearrange recolor reduce remove replace reshape resize rotate scale
set shift shrink side slide small spot square swap switch triangle turn update view yellow zoom
could would should shall may might must can will wanted wish wants need needs
one two three four five six seven eight nine ten first second third fourth
"""
_WORD = re.compile(r"[a-z]+")


def _phrasing_words() -> set[str]:
    texts = [DIPTYCH_PREFIX, SAME_AS_LEFT, IC_TEMPLATE, " ".join(POLITE_PREFIXES + POLITE_SUFFIXES + ENDINGS),
             " ".join(v for vs in VERBS.values() for v in vs), " ".join(t for ts in sw.TEMPLATES.values() for t in ts),
             " ".join(p for syn in (CELL_SYNONYMS, SIZE_SYNONYMS, BACKGROUND_SYNONYMS) for ps in syn.values()
                      for p in ps), " ".join(p for ps in STYLE_WORDS.values() for p in ps),
             " ".join(sw.SHAPES + tuple(sw.COLORS) + tuple(sw.BACKGROUNDS) + tuple(sw.SIZES) + tuple(sw.CELLS)),
             "there is also gone larger smaller drawn outlines filled on the left right at a an and background "
             "diptych side by images scene exactly same as but"]
    rng = random.Random(0)
    texts += [random_text(rng).string for _ in range(400)]
    return {w for t in texts for w in _WORD.findall(normalize(t))}


VOCABULARY: tuple[str, ...] = tuple(sorted(set(_WORD.findall(ENGLISH)) | _phrasing_words()))
VOCABULARY_SET = frozenset(VOCABULARY)
