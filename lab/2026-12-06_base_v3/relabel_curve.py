"""Rename curves in a learning_curve folder and redraw its figure (labels name the runs, not which base ships).

    python lab/2026-12-06_base_v3/relabel_curve.py lab/2026-12-06_base_v3/t2i_curve "OLD=NEW" ...
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from icedit_lib import learning_curve  # noqa: E402
from icedit_lib.checkpoints import atomic_write_text  # noqa: E402

folder = Path(sys.argv[1])
renames = dict(item.split("=", 1) for item in sys.argv[2:])
curves = json.loads((folder / "curve.json").read_text())
missing = set(renames) - set(curves)
assert not missing, f"no such curves: {missing}"
curves = {renames.get(label, label): points for label, points in curves.items()}
figure = learning_curve.plot(curves)
atomic_write_text(folder / "curve.json", json.dumps(curves, indent=2))
figure.savefig(folder / "figure.png", dpi=110)
print("\n".join(curves))
