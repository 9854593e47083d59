import json
p='notebooks/07_early_filter_scaling.ipynb'
nb=json.load(open(p))
def setmd(i, text, starts):
    c=nb['cells'][i]; old=''.join(c['source']); assert c['cell_type']=='markdown' and old.startswith(starts), i
    if '## Exercises' in old: text = text.strip('\n') + '\n\n' + old[old.index('## Exercises'):]
    lines=text.strip('\n').split('\n')
    c['source']=[l+'\n' for l in lines[:-1]]+[lines[-1]]
setmd(17, """How to read it. There is headroom: the oracle's best of M among finished images, which knows the target, lies
above one seed for both models. The learned judge finds little of it. Its pick among six finished images lands at
about one seed for the training-free model and below it for the LoRA-MoE; its early filter stays at or below one seed
for both. The agreement lines printed with the tables say why: on pairs of one edit's seeds, one right and one wrong,
it sides with the parser little more often than a coin for the training-free model on finished images, at about a
coin on previews, and no more often than a coin for the LoRA-MoE at any step. On this base the LoRA-MoE fails rarely,
and what is left are near misses (the right object in the right place, drawn with a flaw, blurred, or in two
colours at once: its card's evaluation images) that look like the edit asked for; the judge learned from synthetic candidates (copies,
blobs, wrong edits made by hand) that are far easier to tell apart, and it agrees with the parser on held-out ones
of those (its card). What made the judge work at all is how it is built (`lab/2026-12-05_judge_reader`): a first
design learned to see and to read from one bit per candidate and ranked the seeds of one edit at chance; built the
way VLMs are, from a vision tower pretrained to name what each cell holds and the miniature's own pretrained T5, the
same synthetic candidates teach it to tell a copy, a blob or a wrong change from the edit asked for. The tables also
carry a second verifier, the miniature's CLIP scoring each candidate against the target scene's caption (the paper's
Table 3b compares such a CLIP verifier with the VLM judge; notebook 08 says what it rewards). It finds most of the
headroom on finished images, but it reads a description of the answer, which a judge given only the instruction does
not have.

**How much does a preview tell at best?** The oracle, which is not a judge because it knows the target
(`judge.OracleJudge`: the parser's reading of a candidate, then its pixel distance to the target's render;
`train_judge.oracle_agreement`), replayed as an early filter on the scaling suite (the tables' "early filter
(oracle, upper bound)" rows): a perfect preview reader would gain little over one seed from the first previews and
more from the later ones, for both models: the near misses are settled late in the 28 steps. An earlier, blurrier
decoder made the same oracle weaker (`lab/2026-12-01_vae_decoder`): the decoder decides how legible a preview is.
The schedule is not what limits it: the miniature's dynamic shift puts its previews at FLUX's noise levels for a
1024 x 512 diptych. Within one edit the seeds often differ at the parser's pixel threshold rather than in what they
drew. The NFE accounting (M m + n - m) and the benchmark's wall-time ratio do not depend on the model's quality.""",
"How to read it.")
setmd(21, """## Summary
- An x0 preview after a few steps shows roughly where each seed is heading; how early is early enough is the
  judge-accuracy curve above, and its ceiling is what an oracle that knew the target could do (on the miniature it
  gains over one seed only from the later previews, for both models).
- A judge compares candidates; averaging both presentation orders cancels position bias; reading logits gives
  probabilities.
- Early filter spends M m + n - m evaluations instead of M n; the paper finds most of best-of-M's gain available
  early; on the miniature the learned judge, a scene reader and the miniature's T5 joined by a small transformer,
  finds little of it: the editors' remaining failures are near misses it cannot tell from successes. A CLIP
  verifier that reads the target's caption finds most of it on finished images.
- The oracle line is what a perfect judge would reach: the gap to it is the judge's fault, not the sampler's.""", "## Summary")
# keep the exercises: they were part of cell 21
json.dump(nb, open(p,'w'), indent=1, ensure_ascii=False); open(p,'a').write('\n')
