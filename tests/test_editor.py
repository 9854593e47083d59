import random

import numpy as np
import pytest
import torch

from icedit_lib import shapesworld as sw
from icedit_lib.editor import ICEditor
from icedit_lib.miniature import T5_MAX_LENGTH


@pytest.fixture(scope="module")
def editor(mini_dir):
    from diffusers import FluxFillPipeline

    pipe = FluxFillPipeline.from_pretrained(mini_dir)
    pipe.set_progress_bar_config(disable=True)
    return ICEditor(pipe, panel_width=64, max_sequence_length=T5_MAX_LENGTH)


@pytest.fixture(scope="module")
def source():
    return sw.render(sw.random_scene(random.Random(0)))


def final_latents(editor, source, seeds, steps, instruction="make the red circle blue"):
    req = editor._request(source, instruction, 50.0, "ic")
    return editor._run(req, editor.initial_latents(seeds, req.layout), editor.sigmas(steps), output_type="latent")


def test_resume_equals_uninterrupted_run_exactly(editor, source):
    steps = 6
    full = final_latents(editor, source, [7], steps)
    for m in (1, 3, 5):
        previews = editor.preview(source, "make the red circle blue", [7], steps=steps, preview_steps=m)
        req = previews.request
        resumed = editor._run(req, previews.latents[0:1], editor.sigmas(steps)[m:], output_type="latent")
        assert torch.equal(resumed, full), m
    # and through the public API, image for image
    a = editor.edit(source, "make the red circle blue", seed=7, steps=steps)
    b = editor.resume(editor.preview(source, "make the red circle blue", [7], steps=steps, preview_steps=2), 0)
    assert np.array_equal(np.asarray(a.diptych), np.asarray(b.diptych))


def test_resume_any_seed_of_a_batch(editor, source):
    steps, seeds = 6, [3, 4, 5]
    previews = editor.preview(source, "remove the square", seeds, steps=steps, preview_steps=2)
    assert previews.latents.shape[0] == 3 and len(previews.images) == 3
    assert all(im.size == source.size for im in previews.images)
    batch_full = final_latents(editor, source, seeds, steps, "remove the square")
    for j in range(3):
        req = previews.request
        resumed = editor._run(req, previews.latents[j:j + 1], editor.sigmas(steps)[2:], output_type="latent")
        # batched matrix products round differently from single ones: equal to float precision
        torch.testing.assert_close(resumed[0], batch_full[j], rtol=1e-4, atol=1e-4)


def test_previews_along_a_full_run_match_stopped_previews(editor, source):
    steps, seeds = 6, [3, 4]
    results, previews = editor.edit_with_previews(source, "remove the square", seeds, steps=steps, preview_at=(1, 3))
    assert sorted(previews) == [1, 3] and [r.seed for r in results] == seeds
    stopped = editor.preview(source, "remove the square", seeds, steps=steps, preview_steps=3)
    for a, b in zip(previews[3], stopped.images):
        assert np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max() <= 1
    with pytest.raises(ValueError):
        editor.edit_with_previews(source, "x", [0], steps=4, preview_at=(4,))


def test_batched_seeds_differ_and_match_single_runs(editor, source):
    results = editor.edit_seeds(source, "make the shapes solid", [1, 2], steps=3)
    assert [r.seed for r in results] == [1, 2]
    assert not np.array_equal(np.asarray(results[0].image), np.asarray(results[1].image))
    single = editor.edit(source, "make the shapes solid", seed=2, steps=3)
    diff = np.abs(np.asarray(single.image, dtype=int) - np.asarray(results[1].image, dtype=int)).max()
    assert diff <= 2


def test_any_input_size_comes_back_at_its_size(editor, source):
    for size in [(64, 64), (100, 37), (37, 100), (640, 480)]:
        out = editor.edit(source.resize(size), "anything at all?!", steps=1)
        assert out.image.size == size and out.diptych.size[0] == 128


def test_bad_steps(editor, source):
    with pytest.raises(ValueError):
        editor.edit(source, "x", steps=0)
    with pytest.raises(ValueError):
        editor.preview(source, "x", [0], steps=4, preview_steps=4)


def test_compiled_editor_matches_eager(mini_env, editor, source):
    """`compile=True` (icedit edit --compile) changes speed, not results."""
    compiled = ICEditor.from_registry("mini", adapter="none", device="cpu", compile=True)
    compiled.pipe.set_progress_bar_config(disable=True)
    assert hasattr(compiled.pipe.transformer, "_compiled_call_impl") and compiled.pipe.transformer._compiled_call_impl
    a = final_latents(editor, source, [3], steps=2)
    b = final_latents(compiled, source, [3], steps=2)
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_unknown_words_are_named_not_silently_spelled_out(mini_env, source):
    """An instruction with words the miniature never learned is still edited, with a warning that names them."""
    import warnings

    from icedit_lib.language import UnknownWordsWarning

    editor = ICEditor.from_registry("mini", adapter="none", device="cpu")
    assert editor.word_level_text  # the miniature's folder says so (icedit.json)
    assert editor.unknown_words("Could you PLEASE make the circle blue?? thanks :)") == []
    with pytest.warns(UnknownWordsWarning, match="'zebra'"):
        editor.edit(source, "make the zebra blue", steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownWordsWarning)
        editor.edit(source, "Make the CIRCLE blue!", steps=1)
    assert ICEditor(editor.pipe, 64, T5_MAX_LENGTH).unknown_words("make the zebra blue") == []  # full scale: off
