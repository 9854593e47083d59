"""Judges for early-filter scaling (paper section 3.3): which of two edits is better?

A judge answers `prefer(source, a, b, instruction)`: the probability that edit `a` is the
better one. Vision-language judges favour one presentation order, so every preference
is averaged over both orders (a, b) and (b, a). Three ways to pick one of M candidates:
- `sequential` (the paper): keep the winner of each comparison, M - 1 comparisons;
- `knockout`: a single-elimination tournament, also M - 1 comparisons, but no candidate
  has to survive a long run of duels just because it came first;
- `score_all`: every pair once, the highest mean preference wins, M (M - 1) / 2 comparisons.

Judges here:
- `QwenVLJudge`: Qwen2.5-VL (3B / 7B / 72B, or any local folder) through transformers, with
  the paper's prompt; the preference is read from the next-token logits of "1" and "2"
  (a probability, not a parsed string).
- `ClipJudge`: the paper's CLIP verifier (its Table 3b sets it against the VLM): the candidate whose
  image is closer, in a CLIP model's embedding, to a caption of the wanted output (CLIP-out).
- `OracleJudge`: reads the ShapesWorld scene with the parser and compares with the true
  target. It knows the answer: an upper bound for the notebook, never a real judge.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import random
from dataclasses import dataclass

from PIL import Image

JUDGE_PROMPT = (
    "You are given an original image and two edited versions of it, made by following the instruction: "
    "\"{instruction}\". Which edit follows the instruction better, with higher visual quality and fewer "
    "artifacts, while keeping the regions that should not change identical to the original? "
    "Answer with a single digit: 1 for the first edited image, 2 for the second."
)
STRATEGIES = ("sequential", "knockout", "score_all")


class PairwiseJudge:
    """Base class: subclasses give `p_first`, the probability that the first shown edit wins."""

    def p_first(self, source: Image.Image, first: Image.Image, second: Image.Image, instruction: str) -> float:
        raise NotImplementedError

    def prefer(self, source: Image.Image, a: Image.Image, b: Image.Image, instruction: str) -> float:
        """P(a is better), averaged over both presentation orders to cancel position bias."""
        return 0.5 * (self.p_first(source, a, b, instruction) + 1.0 - self.p_first(source, b, a, instruction))


@dataclass
class Selection:
    index: int
    comparisons: int  # calls of `prefer` (each is two judge passes, one per order)
    scores: list[float] | None = None


def select(judge: PairwiseJudge, source, candidates: list[Image.Image], instruction: str,
           strategy: str = "sequential") -> Selection:
    """Pick one of `candidates` with `strategy` (see the module docstring)."""
    if not candidates:
        raise ValueError("no candidates to select from")
    if strategy == "sequential":
        best, n = 0, 0
        for i in range(1, len(candidates)):
            n += 1
            if judge.prefer(source, candidates[i], candidates[best], instruction) > 0.5:
                best = i
        return Selection(best, n)
    if strategy == "knockout":
        alive, n = list(range(len(candidates))), 0
        while len(alive) > 1:
            nxt = []
            for j in range(0, len(alive) - 1, 2):
                a, b = alive[j], alive[j + 1]
                n += 1
                nxt.append(a if judge.prefer(source, candidates[a], candidates[b], instruction) >= 0.5 else b)
            if len(alive) % 2:
                nxt.append(alive[-1])  # a bye
            alive = nxt
        return Selection(alive[0], n)
    if strategy == "score_all":
        m = len(candidates)
        scores, n = [0.0] * m, 0
        for i in range(m):
            for j in range(i + 1, m):
                p = judge.prefer(source, candidates[i], candidates[j], instruction)
                scores[i] += p
                scores[j] += 1 - p
                n += 1
        scores = [s / max(1, m - 1) for s in scores]
        return Selection(max(range(m), key=scores.__getitem__), n, scores)
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")


def seed_pair_agreement(successes: list, beats) -> tuple[float, int]:
    """How a judge ranks the seeds of one edit: over every pair (successful seed g, failed seed b),
    the sum of `beats(g, b)` (1 when the judge puts g first, 0.5 for a tie) and the number of pairs.
    Only edits whose seeds differ in success say anything about choosing among seeds (section 3.3)."""
    good = [i for i, ok in enumerate(successes) if ok]
    bad = [i for i, ok in enumerate(successes) if not ok]
    return sum(beats(g, b) for g in good for b in bad), len(good) * len(bad)


class ClipJudge(PairwiseJudge):
    """CLIP as a verifier (paper Table 3b): P(first wins) rises with how much closer the first candidate's CLIP
    image embedding is to `caption`, a text of the wanted output (Emu Edit's output caption; on the miniature the
    target scene's description). It neither reads the instruction nor compares with the source, so it rewards a
    candidate that looks like the caption, whatever else it changed. `scorer`: a `metrics.ClipScorer`."""

    def __init__(self, scorer, caption: str, sharpness: float = 100.0):
        self.scorer, self.caption, self.sharpness = scorer, caption, sharpness
        self._scores: dict[tuple, float] = {}

    def score(self, image: Image.Image) -> float:
        """CLIP-out of one candidate, computed once per distinct image (keyed by its pixels, not by the object's
        id, which Python reuses once an image is freed)."""
        key = (image.mode, image.size, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
        if key not in self._scores:
            self._scores[key] = self.scorer.clip_out([image], [self.caption])[0]
        return self._scores[key]

    def p_first(self, source, first, second, instruction) -> float:
        return 1.0 / (1.0 + math.exp(-self.sharpness * (self.score(first) - self.score(second))))


class OracleJudge(PairwiseJudge):
    """Upper bound only: knows the target scene. Prefers the candidate that parses to it,
    then the one closer to the rendered target in L1."""

    def __init__(self, target_scene):
        from . import shapesworld as sw

        self.sw = sw
        self.target = target_scene
        self.target_image = sw.to_unit_array(sw.render(target_scene))

    def quality(self, image: Image.Image) -> float:
        """1 if the image parses to the target, minus its mean pixel distance to the target's render."""
        sw = self.sw
        panel = image if image.size == (sw.PANEL, sw.PANEL) else image.resize((sw.PANEL, sw.PANEL), Image.BICUBIC)
        ok = sw.read_scene(panel).exact == self.target
        return float(ok) - float(abs(sw.to_unit_array(panel) - self.target_image).mean())

    def p_first(self, source, first, second, instruction) -> float:
        return 1.0 / (1.0 + math.exp(-50.0 * (self.quality(first) - self.quality(second))))


class RandomJudge(PairwiseJudge):
    """A coin: the "random choice among M" baseline, expressed as a judge."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def p_first(self, source, first, second, instruction) -> float:
        return self.rng.random()


# Qwen's chat layout for one user turn of text and images (used when the tokenizer has none).
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
                 "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
                 "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
IMAGE_PAD = "<|image_pad|>"


class QwenVLJudge(PairwiseJudge):
    """Qwen2.5-VL as a pairwise judge; the answer is the softmax over the logits of "1" and "2".

    Inputs are prepared as Qwen2_5_VLProcessor does (each image placeholder expanded to one
    token per merged patch), from the tokenizer and the image processor directly: the
    processor class itself insists on a video processor, which needs torchvision."""

    def __init__(self, model, tokenizer, image_processor, prompt: str = JUDGE_PROMPT):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.prompt = prompt
        self.answer_ids = [tokenizer.convert_tokens_to_ids(t) for t in ("1", "2")]
        if any(i is None or i == tokenizer.unk_token_id for i in self.answer_ids):
            raise ValueError("the judge's tokenizer has no single tokens for the answers '1' and '2'")

    @classmethod
    def from_pretrained(cls, name_or_path: str, device: str = "auto", dtype: str | None = None,
                        load_in_4bit: bool = False) -> "QwenVLJudge":
        """bf16 on GPU by default; `load_in_4bit` needs bitsandbytes (72B on one 80 GB card)."""
        import torch
        from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        from .devices import pick_device, pick_dtype

        device = pick_device(device)
        kwargs = {"dtype": pick_dtype(dtype, device)}
        if load_in_4bit:
            if importlib.util.find_spec("bitsandbytes") is None:
                raise ValueError("4-bit loading needs bitsandbytes: pip install bitsandbytes")
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)
            kwargs["device_map"] = "auto"
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(name_or_path, **kwargs)
        if not load_in_4bit:
            model = model.to(device)
        return cls(model, AutoTokenizer.from_pretrained(name_or_path), AutoImageProcessor.from_pretrained(name_or_path))

    def messages(self, instruction: str) -> list[dict]:
        return [{"role": "user", "content": [
            {"type": "text", "text": "Original image:"}, {"type": "image"},
            {"type": "text", "text": "Edited image 1:"}, {"type": "image"},
            {"type": "text", "text": "Edited image 2:"}, {"type": "image"},
            {"type": "text", "text": self.prompt.format(instruction=instruction)}]}]

    def inputs(self, images: list[Image.Image], instruction: str) -> dict:
        return self.chat_inputs(images, self.messages(instruction))

    def chat_inputs(self, images: list[Image.Image], messages: list[dict]) -> dict:
        """Model inputs for one user turn of `messages` (text and image parts) and its `images`."""
        vision = self.image_processor(images=images, return_tensors="pt")
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False,
                                                  chat_template=self.tokenizer.chat_template or CHAT_TEMPLATE)
        merge = self.image_processor.merge_size ** 2
        parts = text.split(IMAGE_PAD)
        if len(parts) != len(images) + 1:
            raise ValueError(f"the chat template placed {len(parts) - 1} images, not {len(images)}")
        counts = [int(g.prod()) // merge for g in vision["image_grid_thw"]]
        text = parts[0] + "".join(IMAGE_PAD * n + rest for n, rest in zip(counts, parts[1:]))
        return {**self.tokenizer([text], return_tensors="pt"), **vision}

    def p_first(self, source, first, second, instruction) -> float:
        import torch

        inputs = {k: v.to(self.model.device) for k, v in self.inputs([source, first, second], instruction).items()}
        with torch.no_grad():
            logits = self.model(**inputs).logits[0, -1, self.answer_ids].float()
        return float(logits.softmax(-1)[0])
