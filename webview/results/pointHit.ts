/** Which drawn point a click lands on: the nearest within a radius, in CSS pixels. Pure, for the cost charts. */

/** The index of the point nearest to (`x`, `y`) within `radius` pixels, or -1. */
export function nearestPoint(points: readonly { x: number; y: number }[], x: number, y: number, radius = 12): number {
  let best = -1;
  let bestD = radius * radius;
  points.forEach((p, i) => {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  });
  return best;
}
