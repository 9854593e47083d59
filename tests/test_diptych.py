import pytest
from PIL import Image

from icedit_lib.diptych import (IC_TEMPLATE, InstructionError, clean_instruction, make_diptych, make_prompt,
                                plan_layout, right_half)


def test_ic_prompt_is_the_authors_template():
    assert make_prompt("make it blue") == ("A diptych with two side-by-side images of the same scene. On the right, "
                                           "the scene is exactly the same as on the left but make it blue")
    assert make_prompt("  make   it blue ", mode="direct") == "make it blue"
    assert "{instruction}" in IC_TEMPLATE


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", None, 3])
def test_empty_or_non_text_instructions_are_refused(bad):
    with pytest.raises(InstructionError):
        clean_instruction(bad)


def test_unknown_prompt_mode():
    with pytest.raises(ValueError):
        make_prompt("x", mode="fancy")


@pytest.mark.parametrize("w,h", [(512, 520), (512, 512), (768, 1000), (100, 37), (64, 64), (3000, 10), (10, 3000)])
def test_layout_rounds_to_token_multiples_without_dropping_rows(w, h):
    layout = plan_layout((w, h), 512, 16)
    pw, ph = layout.panel_size
    assert pw == 512 and ph % 16 == 0 and 128 <= ph <= 2048
    if 0.25 <= h / w <= 4:
        assert abs(ph - h * 512 / w) <= 8  # nearest multiple: at most half a token off, no crop
    diptych, mask = make_diptych(Image.new("RGB", (w, h), (10, 20, 30)), layout)
    assert diptych.size == (1024, ph) and mask.size == (1024, ph)
    assert mask.getpixel((511, 0)) == 0 and mask.getpixel((512, ph - 1)) == 255
    out = right_half(diptych, layout)
    assert out.size == (w, h)


def test_authors_losing_height_is_fixed():
    """The authors round 520 to a multiple of 8 (520) and FLUX drops to 512; here 528 or 512
    is the whole image resized, and the output comes back at 520 rows."""
    layout = plan_layout((512, 520), 512, 16)
    assert layout.panel_size[1] in (512, 528)
    assert right_half(Image.new("RGB", (1024, layout.panel_size[1])), layout).size == (512, 520)
