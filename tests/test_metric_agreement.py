"""Metrics against exact success: AUC and Spearman by hand, and the study end to end on a tiny run."""
import json

import numpy as np
import pytest

from icedit_lib import metric_agreement as ma
from icedit_lib import shapesworld as sw


def test_auc_and_spearman_by_hand():
    success = np.array([True, True, False, False])
    assert ma.auc(np.array([0.9, 0.8, 0.1, 0.2]), success) == 1.0
    assert ma.auc(np.array([0.1, 0.2, 0.9, 0.8]), success) == 0.0
    assert ma.auc(np.array([0.5, 0.1, 0.5, 0.2]), success) == pytest.approx((0.5 + 1 + 0 + 0) / 4)  # a tie: half
    assert ma.auc(np.array([0.1, 0.2, 0.9, 0.8]), success, higher_is_better=False) == 1.0
    assert ma.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert ma.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_study_on_a_run_whose_verdicts_are_known(tiny_clip, tmp_path):
    """A run of two edits: one exact (the target itself), one unchanged copy of the source."""
    from icedit_lib.suites import make_suite

    suite = make_suite(tmp_path / "suite", n=2, seed=5)
    rows = [json.loads(x) for x in suite.read_text().splitlines()]
    run = tmp_path / "runs" / "mini"
    (run / "images").mkdir(parents=True)
    records = []
    for k, row in enumerate(rows):
        image = sw.render(sw.Scene.from_dict(row["target_scene" if k == 0 else "source_scene"]))
        image.save(run / "images" / f"{row['id']}.png")
        records.append({"id": row["id"], "edit_type": row["edit_type"], "success": k == 0})
    (run / "results.json").write_text(json.dumps({"rows": records}))
    result = ma.main(["--clip", str(tiny_clip), "--runs", str(tmp_path / "runs"), "--suite", str(suite),
                      "--configs", "mini", "--out-dir", str(tmp_path / "out")])
    edits = json.loads((tmp_path / "out" / "results.json").read_text())["edits"]["mini"]
    assert edits[0]["l1_target"] == 0.0 and edits[0]["clip_i_target"] == pytest.approx(1.0, abs=1e-6)
    assert edits[1]["unchanged"] and edits[1]["clip_i_source"] == pytest.approx(1.0, abs=1e-6)
    assert result["agreement"]["l1_target"]["auc"] == 1.0  # the exact edit has the lower L1
    assert result["per_config"]["mini"]["success"] == 0.5 and "| mini | 50.0% |" in (tmp_path / "out" / "table.md").read_text()
