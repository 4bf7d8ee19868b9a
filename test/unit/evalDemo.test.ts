/** Directions that must hold on the demo's trained models (real data, real onnxruntime). */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { evaluate } from '../../src/node/eval/evaluate';

const DEMO = path.join(__dirname, '..', '..', 'demo');

describe('the demo evaluations', () => {
  it('MNIST: int2 is far worse than int8, KL grows as bits shrink, fp16 changes nothing', async () => {
    const r = await evaluate(path.join(DEMO, 'mnist', 'mnist.quantlens.json'));
    const sweep = r.sweep!;
    const at = (bits: number): (typeof sweep.metrics)[number]['all'] => sweep.metrics[sweep.bits.indexOf(bits)].all;
    assert.ok(at(2).accuracy! < at(8).accuracy! - 0.1, `int2 ${at(2).accuracy} vs int8 ${at(8).accuracy}`);
    const kl = sweep.bits.map((b) => at(b).kl!);
    kl.slice(1).forEach((k, i) =>
      assert.ok(k > kl[i], `KL grows from int${sweep.bits[i]} to int${sweep.bits[i + 1]}: ${kl.join(', ')}`),
    );
    const fp16 = r.variants.find((v) => v.id === 'fp16')!.metrics.all;
    assert.equal(fp16.accuracyChange!.value, 0);
    assert.ok(fp16.outputSqnrDb > 60);
    assert.equal(r.variants[0].metrics.all.kl, 0);
  });

  it('language model: perplexity rises int8 < int4 < int3 < int2 and the embedding is the most sensitive layer', async () => {
    const r = await evaluate(path.join(DEMO, 'lm', 'char_gpt.quantlens.json'));
    const sweep = r.sweep!;
    const ppl = (bits: number): number => sweep.metrics[sweep.bits.indexOf(bits)].all.perplexity!;
    assert.ok(ppl(8) < ppl(4) && ppl(4) < ppl(3) && ppl(3) < ppl(2), [8, 4, 3, 2].map(ppl).join(', '));
    assert.ok(Math.abs(r.variants.find((v) => v.id === 'int8-channel')!.metrics.all.perplexityChange!.value) < 1);
    const first = r.sensitivity!.layers.find((l) => l.rank === 1)!;
    assert.equal(first.op, 'Gather');
    assert.ok(r.flags.some((f) => f.layer === first.layer));
  });
});
