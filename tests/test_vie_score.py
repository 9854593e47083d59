"""The VIE-style score: the expectation over answer-token probabilities, checked by hand on a stub model,
and end to end on a tiny random Qwen2.5-VL saved in the hub layout."""
import math
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from icedit_lib.vie_score import VIEScore, VIEScorer


class StubModel:
    """Logits fixed per pass: `first` for the answer's first token, `second` after a "1"."""
    device = torch.device("cpu")

    def __init__(self, vocab, first: dict, second: dict):
        self.vocab, self.first, self.second, self.calls = vocab, first, second, 0

    def __call__(self, input_ids, **_):
        probs = self.second if input_ids.shape[1] > 3 else self.first
        logits = torch.full((1, input_ids.shape[1], self.vocab), -1e9)
        for token, p in probs.items():
            logits[0, -1, token] = math.log(p)
        return SimpleNamespace(logits=logits)


def stub_scorer(first: dict, second: dict) -> VIEScorer:
    digits = {str(d): 10 + d for d in range(10)}
    tokenizer = SimpleNamespace(convert_tokens_to_ids=digits.get, unk_token_id=0)
    judge = SimpleNamespace(tokenizer=tokenizer, model=StubModel(32, first, second),
                            chat_inputs=lambda images, messages: {"input_ids": torch.zeros(1, 3, dtype=torch.long),
                                                                  "attention_mask": torch.ones(1, 3, dtype=torch.long)})
    return VIEScorer(judge)


@pytest.mark.parametrize("first, second, expected", [
    ({17: 1.0}, {5: 1.0}, 7.0),                       # always "7"
    ({11: 1.0}, {10: 1.0}, 10.0),                     # "1" then "0": ten
    ({11: 1.0}, {5: 1.0}, 1.0),                       # "1" then the end: one
    ({11: 0.5, 13: 0.5}, {10: 0.5, 5: 0.5}, 4.25),   # 0.5 * 3 + 0.5 * (0.5 * 1 + 0.5 * 10)
])
def test_expected_rating_by_hand(first, second, expected):
    assert stub_scorer(first, second).expected_rating([], "q") == pytest.approx(expected, abs=1e-6)


def test_overall_is_the_root_of_the_two_minima():
    s = VIEScore(success=8, overediting=2, naturalness=9, artifacts=4.5)
    assert s.semantic_consistency == 2 and s.perceptual_quality == 4.5 and s.overall == pytest.approx(3.0)


def test_on_a_tiny_qwen(tmp_path):
    from icedit_lib.judge import QwenVLJudge
    from tests.test_qwen_judge import tiny_qwen

    judge = QwenVLJudge.from_pretrained(str(tiny_qwen(tmp_path)), device="cpu", dtype="fp32")
    score = VIEScorer(judge).score(Image.new("RGB", (64, 48), "white"), Image.new("RGB", (64, 48), "red"),
                                   "make it red")
    assert all(0.0 <= v <= 10.0 for v in score.to_dict().values())
