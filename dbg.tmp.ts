import { checkEval } from './src/node/eval/evalCheck';
import { PlanOracle } from './src/node/search/planOracle';
import * as path from 'node:path';
(async () => {
  const checked = await checkEval(path.resolve(process.argv[2]));
  const o = await PlanOracle.open(checked, checked.spec.budget, 20, 4, {});
  console.log(o.schedule);
  for (const scheme of ['fp16', 'int8-channel', 'int4-block32', 'int2-block32']) {
    const q = new Map(checked.model.weights.map((w) => [w.name, scheme]));
    const m = await o.measure(scheme, q);
    console.log(scheme, m.decision, m.samples, m.runs, m.reading?.verdicts && Object.values(m.reading.verdicts).join(','));
    const s = m.slices.slice(0, 4).map((x) => [x.name, x.metrics.n, x.metrics.accuracyChange?.value.toFixed(2), (x.kl.sum / x.kl.n).toExponential(2), Math.sqrt(x.kl.sumSq / x.kl.n).toExponential(2)]);
    console.log(s);
  }
  await o.close();
})();
