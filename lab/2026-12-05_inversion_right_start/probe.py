"""Where should the right half of the inversion diptych start? (issue 28 / notebook 03, session 25)

The inversion framework (paper section 3.1) on base v2 completes no edit. Session 24 found that fixed-point
inversion plus holding the left half on its trajectory keeps the left exact, but the right half, started from
fresh noise, does not copy the imposed left. The source diptych is (source | source), so its inversion also
gives the right half an inverted noise: starting the right half there (or from a blend with fresh noise) lets
the right half begin as the source and the prompt change it, as reconstruction / edit branches sharing one
inverted latent do in inversion-based editors. This probe measures it on the training-free suite.

    python lab/2026-12-05_inversion_right_start/probe.py --n 24
"""
import argparse
import json
import sys
from pathlib import Path

import torch
from diffusers.utils.torch_utils import randn_tensor

sys.path.insert(0, ".")
from icedit_lib import shapesworld as sw  # noqa: E402
from icedit_lib.diptych import make_diptych, make_prompt, plan_layout, right_half  # noqa: E402
from icedit_lib.editor import EditResult  # noqa: E402
from icedit_lib.evaluation import scoring_rows  # noqa: E402
from icedit_lib.images import load_image  # noqa: E402
from icedit_lib.inversion import (Inversion, InjectionConfig, InversionEditor, KVController, kv_injection,  # noqa: E402
                                  left_half_tokens)
from icedit_lib.suites import load_suite, make_suite  # noqa: E402


COPY_CAPTION = f"{sw.DIPTYCH_PREFIX} {sw.SAME_AS_LEFT}."  # what a (source | source) diptych is, scene unsaid


class ProbeEditor(InversionEditor):
    fixed_point_steps = 0
    hold_left = False
    right_noise = 1.0  # share of fresh noise in the right half's start: 1 = fresh (shipped), 0 = inverted
    copy_inversion = False  # invert with the copy caption (the source diptych's own), not the edit's prompt

    @torch.no_grad()
    def invert(self, diptych, prompt, steps, guidance, controller=None):
        pipe = self.pipe
        device, dtype = pipe._execution_device, pipe.transformer.dtype
        w, h = diptych.size
        image = pipe.image_processor.preprocess(diptych, height=h, width=w).to(device, pipe.vae.dtype)
        lat = pipe.vae.encode(image).latent_dist.mode()
        lat = ((lat - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor).to(dtype)
        c, lh, lw = lat.shape[1:]
        x = pipe._pack_latents(lat, 1, c, lh, lw)
        ids = pipe._prepare_latent_image_ids(1, lh // 2, lw // 2, device, dtype)
        embeds, pooled, text_ids = pipe.encode_prompt(prompt, None, device=device,
                                                      max_sequence_length=self.max_sequence_length)
        sigmas = self._schedule(steps, x.shape[1])
        g = torch.full([1], guidance, device=device, dtype=torch.float32) \
            if pipe.transformer.config.guidance_embeds else None
        trajectory = [x]

        def velocity(x, k):
            if controller is not None:
                controller.step = k
            t = torch.tensor([sigmas[k]], device=device, dtype=dtype)
            return pipe.transformer(hidden_states=x, timestep=t, guidance=g, pooled_projections=pooled,
                                    encoder_hidden_states=embeds, txt_ids=text_ids, img_ids=ids,
                                    return_dict=False)[0]

        for k in range(steps - 1, -1, -1):  # each explicit evaluation at the exact x_{k+1} records last for k+1
            x_next = x.float()
            x = (x_next + (sigmas[k] - sigmas[k + 1]) * velocity(x, k + 1).float()).to(dtype)
            for _ in range(self.fixed_point_steps):
                x = (x_next + (sigmas[k] - sigmas[k + 1]) * velocity(x, k).float()).to(dtype)
            trajectory.append(x)
        if controller is not None:
            velocity(x, 0)
        return Inversion(x, trajectory, sigmas)

    def edit(self, image, instruction, seed=0, steps=28, guidance=3.5, prompt_mode="ic", injection=None):
        pipe = self.pipe
        prompt = make_prompt(instruction, prompt_mode)
        layout = plan_layout(image.size, self.panel_width, self.token_pixels)
        diptych, _ = make_diptych(image, layout)
        w, h = layout.size
        rows, cols = h // self.token_pixels, w // self.token_pixels
        controller = KVController(left_half_tokens(rows, cols), rows * cols, injection or InjectionConfig(),
                                  n_steps=steps)
        left = controller.source_tokens
        with kv_injection(pipe.transformer, controller):
            controller.mode = "record"
            inv = self.invert(diptych, COPY_CAPTION if self.copy_inversion else prompt, steps, guidance, controller)
            fresh = randn_tensor(inv.noise.shape, generator=torch.Generator("cpu").manual_seed(int(seed)),
                                 device=torch.device("cpu"), dtype=torch.float32).to(inv.noise)
            a = self.right_noise
            start = (a * fresh + (1 - a ** 2) ** 0.5 * inv.noise.float()).to(inv.noise) if a < 1 else fresh.clone()
            start[:, left] = inv.noise[:, left]
            controller.mode, controller.step = "inject", 0

            def next_step(pipe_, i, t, kwargs):
                controller.step = i + 1
                if self.hold_left:
                    lat = kwargs["latents"].clone()
                    lat[:, left] = inv.trajectory[steps - (i + 1)][:, left].to(lat)
                    kwargs["latents"] = lat
                return kwargs

            out = pipe(prompt=prompt, height=h, width=w, num_inference_steps=steps, guidance_scale=guidance,
                       latents=start, max_sequence_length=self.max_sequence_length,
                       callback_on_step_end=next_step, callback_on_step_end_tensor_inputs=["latents"]).images[0]
        return EditResult(right_half(out, layout), out, seed, prompt)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--suite", default="/tmp/training_free_suite", help="made here as the training-free table makes it")
    p.add_argument("--only", nargs="*", help="run the variants whose names contain one of these")
    p.add_argument("--out", default="lab/2026-12-05_inversion_right_start/results.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    ed = ProbeEditor.from_registry("mini-t2i", device="cpu")
    ed.pipe.set_progress_bar_config(disable=True)
    # the training-free table's suite (experiments/training_free.py)
    rows = scoring_rows(load_suite(make_suite(args.suite, n=64, seed=4004)))[: args.n]
    variants = {  # name: (fixed point steps, hold left, right noise share, copy-caption inversion)
        "shipped (Euler, fresh right)": (0, False, 1.0, False),
        "fixed point + hold left, fresh right": (3, True, 1.0, False),
        "fixed point + hold left, right from inverted": (3, True, 0.0, False),
        "copy-caption inversion, fixed point + hold left, right from inverted": (3, True, 0.0, True),
        "copy-caption inversion, fixed point + hold left, right 50% fresh": (3, True, 0.5, True),
        "copy-caption inversion, fixed point + hold left, right 75% fresh": (3, True, 0.75, True),
        "copy-caption inversion, fixed point + hold left, fresh right": (3, True, 1.0, True),
    }
    if args.only:
        variants = {k: v for k, v in variants.items() if any(o in k for o in args.only)}
    results = {}
    for name, (fp, hold, noise, copy) in variants.items():
        ed.fixed_point_steps, ed.hold_left, ed.right_noise, ed.copy_inversion = fp, hold, noise, copy
        for text, mode in (("instruction", "ic"), ("caption", "direct")):
            ok, by_type = 0, {}
            for row in rows:
                r = ed.edit(load_image(row["image_path"]), row[text], seed=0, steps=28, prompt_mode=mode,
                            injection=InjectionConfig())
                s = sw.score_edit(r.image, row["source"], row["target"], row["edit_type"])
                ok += bool(s.success)
                by_type.setdefault(row["edit_type"], []).append(bool(s.success))
            key = f"{name} | {'IC prompt' if mode == 'ic' else 'caption'}"
            results[key] = {"success": ok / len(rows), "by_type": {k: sum(v) / len(v) for k, v in by_type.items()}}
            print(f"{key}: {ok}/{len(rows)}", flush=True)
    Path(args.out).write_text(json.dumps({"n": len(rows), "suite": args.suite, "results": results}, indent=1))


if __name__ == "__main__":
    main()
