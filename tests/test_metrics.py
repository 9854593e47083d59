"""The paper's metrics on tiny random CLIP and DINO models built from configs and saved in the hub layouts."""
import numpy as np
import pytest
import torch
from PIL import Image

from icedit_lib import metrics


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)) for _ in range(n)]


def test_identical_images_score_one_and_l1_zero(tiny_clip, tiny_dino):
    a = images(3)
    clip = metrics.ClipScorer(str(tiny_clip), device="cpu")
    dino = metrics.DinoScorer(str(tiny_dino), device="cpu")
    assert clip.clip_i(a, a) == pytest.approx([1.0] * 3, abs=1e-6)
    assert dino.dino(a, a) == pytest.approx([1.0] * 3, abs=1e-6)
    assert all(metrics.l1_distance(x, x) == 0.0 for x in a)


def test_scores_agree_with_a_hand_computation(tiny_clip, tiny_dino):
    from transformers import AutoImageProcessor, CLIPModel, ViTModel

    a, b = images(2, seed=1), images(2, seed=2)
    model = CLIPModel.from_pretrained(tiny_clip).eval()
    from transformers import CLIPProcessor

    proc = CLIPProcessor.from_pretrained(tiny_clip)
    with torch.no_grad():  # the projections applied by hand to the towers' pooled outputs
        pa = model.vision_model(pixel_values=proc(images=a, return_tensors="pt")["pixel_values"]).pooler_output
        pb = model.vision_model(pixel_values=proc(images=b, return_tensors="pt")["pixel_values"]).pooler_output
        tokens = proc(text=["a red cat", "b"], return_tensors="pt", padding=True)
        pt = model.text_model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).pooler_output
        fa, fb, ft = model.visual_projection(pa), model.visual_projection(pb), model.text_projection(pt)
    by_hand = [float(x @ y / (x.norm() * y.norm())) for x, y in zip(fa.double(), fb.double())]
    clip = metrics.ClipScorer(str(tiny_clip), device="cpu")
    assert clip.clip_i(a, b) == pytest.approx(by_hand, abs=1e-6)
    by_hand_t = [float(x @ y / (x.norm() * y.norm())) for x, y in zip(fa.double(), ft.double())]
    assert clip.clip_out(a, ["a red cat", "b"]) == pytest.approx(by_hand_t, abs=1e-6)
    vit, vproc = ViTModel.from_pretrained(tiny_dino).eval(), AutoImageProcessor.from_pretrained(tiny_dino)
    with torch.no_grad():
        ca = vit(pixel_values=vproc(images=a, return_tensors="pt")["pixel_values"]).last_hidden_state[:, 0]
        cb = vit(pixel_values=vproc(images=b, return_tensors="pt")["pixel_values"]).last_hidden_state[:, 0]
    dino_by_hand = [float(x @ y / (x.norm() * y.norm())) for x, y in zip(ca.double(), cb.double())]
    assert metrics.DinoScorer(str(tiny_dino), device="cpu").dino(a, b) == pytest.approx(dino_by_hand, abs=1e-6)
    # L1 by hand: a black and a white image differ by exactly 1; a gray of 51 from black by 0.2
    black, white = Image.new("RGB", (20, 10), "black"), Image.new("RGB", (20, 10), "white")
    assert metrics.l1_distance(black, white, size=None) == 1.0
    assert metrics.l1_distance(black, Image.new("RGB", (20, 10), (51, 51, 51)), size=None) == pytest.approx(0.2)


def test_batched_equals_one_at_a_time(tiny_clip, tiny_dino):
    a, b = images(5, seed=3), images(5, seed=4)
    one = metrics.ClipScorer(str(tiny_clip), device="cpu", batch_size=1)
    many = metrics.ClipScorer(str(tiny_clip), device="cpu", batch_size=4)
    assert one.clip_i(a, b) == pytest.approx(many.clip_i(a, b), abs=1e-6)
    texts = ["abc", "a much longer caption", "x", "yy", "zz z"]
    assert one.clip_out(a, texts) == pytest.approx(many.clip_out(a, texts), abs=1e-6)
    d1 = metrics.DinoScorer(str(tiny_dino), device="cpu", batch_size=1)
    d4 = metrics.DinoScorer(str(tiny_dino), device="cpu", batch_size=4)
    assert d1.dino(a, b) == pytest.approx(d4.dino(a, b), abs=1e-6)


def test_offline_missing_model_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(metrics.MetricModelNotAvailable, match="hf download"):
        metrics.ClipScorer("openai/clip-vit-base-patch32", device="cpu")
    with pytest.raises(metrics.MetricModelNotAvailable, match="hf download"):
        metrics.DinoScorer(str(tmp_path / "no-such-folder"), device="cpu")
    with pytest.raises(ValueError, match="unequal length"):
        metrics.cosine(torch.ones(1, 2), torch.ones(1, 2)) and metrics._check_pairs([1], [1, 2])
    with pytest.raises(ValueError, match="one size"):
        metrics.l1_distance(Image.new("RGB", (4, 4)), Image.new("RGB", (5, 4)), size=None)


def test_the_miniature_clip_trains_saves_and_scores_through_the_stock_loader(tmp_path):
    from icedit_lib import mini_clip

    rec = mini_clip.main(["--output-dir", str(tmp_path / "clip"), "--work-dir", str(tmp_path / "w"), "--steps", "2",
                          "--batch-size", "8", "--width", "32", "--threads", "1"])
    assert rec["step"] == 2 and 0 <= rec["evaluation"]["image_to_text"] <= 1
    assert (tmp_path / "clip" / "README.md").read_text().startswith("# mini-clip")
    scorer = metrics.ClipScorer(str(tmp_path / "clip"), device="cpu")
    a = images(2)
    assert scorer.clip_i(a, a) == pytest.approx([1.0, 1.0], abs=1e-6)
    assert len(scorer.clip_out(a, ["Filled shapes on a white background: a small red circle at the top.", "x"])) == 2
