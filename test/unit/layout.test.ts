import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  channelGeometry,
  channelLabel,
  hasGroupScales,
  scaleGroups,
  schemeBlockSize,
} from '../../src/core/quant/layout';
import { parseScheme, type IntScheme } from '../../src/core/quant/schemes';

describe('layout geometry', () => {
  it('channels and reduction axis follow the channel axis; one channel without a layout', () => {
    assert.deepEqual(channelGeometry(24, { rows: 4, cols: 6, channelAxis: 0 }), { channels: 4, reduction: 6 });
    assert.deepEqual(channelGeometry(24, { rows: 4, cols: 6, channelAxis: 1 }), { channels: 6, reduction: 4 });
    assert.deepEqual(channelGeometry(24, undefined), { channels: 1, reduction: 24 });
  });

  it('blocks only for integer block schemes on weights with a layout', () => {
    assert.equal(schemeBlockSize(parseScheme('int4-block32'), true), 32);
    assert.equal(schemeBlockSize(parseScheme('int4-block32'), false), undefined);
    assert.equal(schemeBlockSize(parseScheme('int8-channel'), true), undefined);
    assert.equal(schemeBlockSize(parseScheme('fp8-e4m3'), true), undefined);
    assert.equal(hasGroupScales(parseScheme('int8-channel'), true), true);
    assert.equal(hasGroupScales(parseScheme('int8-tensor'), true), false);
    assert.equal(hasGroupScales(parseScheme('int8-channel'), false), false);
    assert.equal(hasGroupScales(parseScheme('fp16'), true), false);
  });

  it('scale groups: per tensor 1, per channel one a channel, blocks rounded up along the reduction axis', () => {
    const layout = { rows: 100, cols: 8, channelAxis: 1 as const }; // MatMul [K=100, N=8]
    const s = (id: string): IntScheme => parseScheme(id) as IntScheme;
    assert.equal(scaleGroups(s('int8-tensor'), 800, layout), 1);
    assert.equal(scaleGroups(s('int8-channel'), 800, layout), 8);
    assert.equal(scaleGroups(s('int4-block32'), 800, layout), 8 * 4);
    assert.equal(scaleGroups(s('int4-block32'), 800, undefined), 1);
  });

  it('names a channel after the consuming op', () => {
    assert.equal(channelLabel('MatMul', 1), 'output column');
    assert.equal(channelLabel('Gather', 0), 'row (embedding)');
    assert.equal(channelLabel('Conv', 0), 'output channel');
    assert.equal(channelLabel('Conv', undefined), 'tensor');
  });
});
