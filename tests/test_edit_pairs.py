"""Edit-pair sources: ShapesWorld's task mix, and MagicBrush / OmniEdit from small parquet files."""
import io
from collections import Counter

import pytest
from PIL import Image

from icedit_lib import shapesworld as sw
from icedit_lib.edit_pairs import TASK_MIX, pair_source, shapesworld_pair


def png_bytes(size, color):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def test_shapesworld_pairs_follow_the_task_mix_and_training_split():
    counts = Counter()
    for i in range(2000):
        p = shapesworld_pair(i, seed=0)
        counts[p["task"]] += 1
    assert counts.most_common(1)[0][0] == "remove"
    for kind, share in TASK_MIX.items():
        assert abs(counts[kind] / 2000 - share) < 0.04, kind
    p = shapesworld_pair(7, seed=0)
    assert p == shapesworld_pair(7, seed=0)  # a function of (seed, index)
    assert sw.scene_split(sw.read_scene(p["source"]).exact) == "train"


@pytest.fixture
def parquet_files(tmp_path):
    from datasets import Dataset, Features, Image as HFImage, Sequence, Value

    mb = Dataset.from_dict({"source_img": [{"bytes": png_bytes((80, 60), "red"), "path": None}],
                            "target_img": [{"bytes": png_bytes((80, 60), "blue"), "path": None}],
                            "instruction": ["make it blue"]},
                           features=Features({"source_img": HFImage(), "target_img": HFImage(),
                                              "instruction": Value("string")}))
    mb.to_parquet(str(tmp_path / "magicbrush.parquet"))
    oe = Dataset.from_dict({"src_img": [{"bytes": png_bytes((50, 90), "white"), "path": None}],
                            "edited_img": [{"bytes": png_bytes((50, 90), "black"), "path": None}],
                            "edited_prompt_list": [["turn it black", "make it dark"]], "task": ["color"]},
                           features=Features({"src_img": HFImage(), "edited_img": HFImage(),
                                              "edited_prompt_list": Sequence(Value("string")),
                                              "task": Value("string")}))
    oe.to_parquet(str(tmp_path / "omniedit.parquet"))
    return tmp_path


def test_magicbrush_and_omniedit_parquet(parquet_files):
    mb = pair_source(f"magicbrush:{parquet_files / 'magicbrush.parquet'}")(0)
    assert mb["instruction"] == "make it blue" and mb["source"].size == (80, 60)  # aspect ratio kept
    assert mb["target"].getpixel((0, 0)) == (0, 0, 255)
    get = pair_source(f"omniedit:{parquet_files / 'omniedit.parquet'}")
    assert get(0)["instruction"] == "turn it black" and get(1)["instruction"] == "make it dark"
    assert get(0)["task"] == "color" and get(0)["source"].size == (50, 90)


def test_bad_sources(parquet_files):
    with pytest.raises(ValueError, match="unknown data source"):
        pair_source("laion")
    with pytest.raises(ValueError, match="needs parquet files"):
        pair_source("magicbrush")
    with pytest.raises(FileNotFoundError):
        pair_source(f"omniedit:{parquet_files / 'nope.parquet'}")
    with pytest.raises(ValueError, match="columns"):
        pair_source(f"omniedit:{parquet_files / 'magicbrush.parquet'}")


def test_finetune_on_magicbrush_parquet(mini_env, parquet_files, tmp_path):
    from icedit_lib import train

    rec = train.main(["--data", f"magicbrush:{parquet_files / 'magicbrush.parquet'}", "--output-dir",
                      str(tmp_path / "mb"), "--max-steps", "1", "--rank", "4", "--alpha", "4", "--validate-every", "0",
                      "--threads", "1"])
    assert rec["steps"] == 1
