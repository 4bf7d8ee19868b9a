/** Variant ids with activations: parseVariantScheme and the schema patterns accept the same ids. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { variantSchemePattern } from '../../src/core/quant/schemeGrammar';
import { activationSuffix, parseScheme, parseVariantScheme } from '../../src/core/quant/schemes';

const accepts = (id: string, allowFloat = false): boolean => {
  try {
    parseVariantScheme(id, allowFloat);
    return true;
  } catch {
    return false;
  }
};

function candidates(): string[] {
  const ids = ['w8a8', 'W8A8', 'w8a16', 'fp32', '+a8', 'int8-channel+', 'int8-channel+a', 'int8-channel+8'];
  for (const w of ['int8-channel', 'int4-block32', 'int4-block32-asym', 'fp16', 'fp8-e4m3', 'fp32', 'int9-channel']) {
    ids.push(w);
    for (const b of ['4', '8', '12', '16', '32']) {
      for (const sign of ['', '-sym', '-asym', '-signed']) {
        for (const m of ['', '-minmax', '-percentile', '-entropy', '-mse', '-kl']) ids.push(`${w}+a${b}${sign}${m}`);
      }
    }
  }
  return ids;
}

describe('variant scheme ids', () => {
  it('w8a8 is int8-channel with uint8 asymmetric activations', () => {
    assert.deepEqual(parseVariantScheme('w8a8'), { weight: 'int8-channel', activation: { bits: 8, signed: false } });
  });

  it('the weight-only grammar (inspect --schemes, the scheme bar) refuses activation ids', () => {
    for (const id of ['w8a8', 'int8-channel+a8', 'fp32+a8']) assert.throws(() => parseScheme(id), id);
    assert.equal(parseScheme('int8-channel').id, 'int8-channel');
  });

  it('parses the weight part, bits, sign and calibration method', () => {
    assert.deepEqual(parseVariantScheme('int4-block32+a8-percentile'), {
      weight: 'int4-block32',
      activation: { bits: 8, signed: false, method: 'percentile' },
    });
    assert.deepEqual(parseVariantScheme('int8-channel+a8-sym'), {
      weight: 'int8-channel',
      activation: { bits: 8, signed: true },
    });
    assert.deepEqual(parseVariantScheme('fp32+a16-asym-entropy'), {
      weight: 'fp32',
      activation: { bits: 16, signed: false, method: 'entropy' },
    });
    assert.deepEqual(parseVariantScheme('int4-block32'), { weight: 'int4-block32' });
    assert.equal(activationSuffix({ bits: 8, signed: true, method: 'mse' }), '+a8-sym-mse');
  });

  it('says what is wrong', () => {
    assert.throws(() => parseVariantScheme('int8-channel+a4'), /activation bit width 4.*\+a8 or \+a16/);
    assert.throws(() => parseVariantScheme('int8-channel+a8-kl'), /calibration method 'kl'/);
    assert.throws(() => parseVariantScheme('int9-channel+a8'), /Unknown quantization scheme 'int9-channel'/);
    assert.throws(() => parseVariantScheme('fp32'), /Unknown quantization scheme/);
    assert.deepEqual(parseVariantScheme('fp32', true), { weight: 'fp32' });
  });

  it('the evaluation and plan schema patterns accept exactly what parseVariantScheme accepts', () => {
    const spec = new RegExp(variantSchemePattern());
    const plan = new RegExp(variantSchemePattern(['fp32']));
    assert.deepEqual(
      candidates().filter((id) => accepts(id) !== spec.test(id)),
      [],
    );
    assert.deepEqual(
      candidates().filter((id) => accepts(id, true) !== plan.test(id)),
      [],
    );
    assert.ok(candidates().filter((id) => accepts(id)).length > 100);
  });
});
