"""A tuned model is saved with the index's atomic swap, so a run killed mid-swap loses no model.

The model is a stand-in that writes files (its training is tested in test_tuning.py); the folders,
renames and recovery are real."""

from __future__ import annotations

import json
from pathlib import Path

from rag.manifest import old_path
from rag.tuning import TUNE_FILE, _save


class FakeModel:
    def __init__(self, weights: str) -> None:
        self.weights = weights

    def save(self, folder: str) -> None:
        Path(folder).mkdir(parents=True)
        (Path(folder) / "model.safetensors").write_text(self.weights)


def _model(folder: Path, weights: str) -> None:
    FakeModel(weights).save(str(folder))
    (folder / TUNE_FILE).write_text(json.dumps({"pairs": 1}))


def test_save_replaces_the_model_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "tuned"
    _save(FakeModel("one"), out, {"pairs": 1})
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors", TUNE_FILE]
    (out / "stale.bin").write_text("from the old model")
    _save(FakeModel("two"), out, {"pairs": 2})
    assert (out / "model.safetensors").read_text() == "two" and not (out / "stale.bin").exists()
    assert json.loads((out / TUNE_FILE).read_text()) == {"pairs": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["tuned"]


def test_a_kill_between_the_two_renames_is_recovered(tmp_path: Path) -> None:
    """Killed after OUT -> OUT.old and before TMP -> OUT: before, the model was gone for good."""
    out = tmp_path / "tuned"
    _model(old_path(out), "old")
    _save(FakeModel("new"), out, {"pairs": 2})
    assert (out / "model.safetensors").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["tuned"]


def test_a_kill_after_the_second_rename_keeps_the_new_model(tmp_path: Path) -> None:
    from rag.manifest import recover

    out = tmp_path / "tuned"
    _model(old_path(out), "old")
    _model(out, "new")
    recover(out, TUNE_FILE)
    assert (out / "model.safetensors").read_text() == "new" and not old_path(out).exists()


def test_an_incomplete_new_folder_gives_way_to_the_old_model(tmp_path: Path) -> None:
    from rag.manifest import recover

    out = tmp_path / "tuned"
    _model(old_path(out), "old")
    FakeModel("half").save(str(out))  # no TUNE_FILE: the save never finished
    recover(out, TUNE_FILE)
    assert (out / "model.safetensors").read_text() == "old" and not old_path(out).exists()
