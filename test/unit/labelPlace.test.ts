/** The plan chart's marks ("chosen", "≈") are placed clear of every marker and of each other. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxOverlap, discOverlap, placeLabel, sideBox, type Disc } from '../../webview/search/labelPlace';

const area = { x: 0, y: 0, w: 400, h: 300 };

describe('plan chart label placement', () => {
  it('beside its ringed marker, not on the ring', () => {
    const own: Disc = { x: 100, y: 100, r: 10 };
    const box = placeLabel(own, 40, 12, 3, [own], [], area);
    assert.deepEqual(box, { x: 113, y: 94, w: 40, h: 12 });
    assert.equal(discOverlap(box, own), 0);
  });

  it('moves to another side when a neighbouring point sits on the right', () => {
    const own: Disc = { x: 100, y: 100, r: 10 };
    const neighbour: Disc = { x: 130, y: 100, r: 5 };
    const box = placeLabel(own, 40, 12, 3, [own, neighbour], [], area);
    assert.equal(discOverlap(box, own) + discOverlap(box, neighbour), 0);
    assert.deepEqual(box, sideBox(own, 40, 12, 3, [0, -1]), 'above');
  });

  it('the side asked for first, when it is free', () => {
    const own: Disc = { x: 100, y: 100, r: 10 };
    assert.deepEqual(placeLabel(own, 8, 12, 2, [own], [], area, [0, -1]), sideBox(own, 8, 12, 2, [0, -1]));
    const taken = sideBox(own, 8, 12, 2, [0, -1]);
    const moved = placeLabel(own, 8, 12, 2, [own], [taken], area, [0, -1]);
    assert.equal(boxOverlap(moved, taken), 0);
  });

  it('a second label avoids the first; at the plot edge it stays inside', () => {
    const own: Disc = { x: 100, y: 100, r: 10 };
    const first = placeLabel(own, 40, 12, 3, [own], [], area);
    const second = placeLabel(own, 10, 12, 3, [own], [first], area);
    assert.equal(boxOverlap(first, second), 0);
    assert.equal(discOverlap(second, own), 0);
    const edge: Disc = { x: 395, y: 5, r: 4 };
    const inside = placeLabel(edge, 40, 12, 3, [edge], [], area);
    assert.ok(inside.x >= 0 && inside.x + inside.w <= 400 && inside.y >= 0 && inside.y + inside.h <= 300);
  });

  it('when every side is crowded, the least overlapping one', () => {
    const own: Disc = { x: 100, y: 100, r: 5 };
    const crowd: Disc[] = [own];
    for (let dx = -40; dx <= 40; dx += 8)
      for (let dy = -40; dy <= 40; dy += 8) if (dx || dy) crowd.push({ x: 100 + dx, y: 100 + dy, r: 3 });
    const cost = (b: ReturnType<typeof sideBox>): number => crowd.reduce((s, d) => s + discOverlap(b, d), 0);
    const box = placeLabel(own, 20, 10, 2, crowd, [], area);
    const sides: [number, number][] = [
      [1, 0],
      [0, -1],
      [-1, 0],
      [0, 1],
      [1, -1],
      [-1, -1],
      [1, 1],
      [-1, 1],
    ];
    const costs = sides.map((side) => cost(sideBox(own, 20, 10, 2, side)));
    assert.ok(
      costs.every((c) => c > 0),
      'every side is crowded',
    );
    assert.equal(cost(box), Math.min(...costs));
  });
});
