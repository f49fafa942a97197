/** The series the inference bench fits AutoETS on: 2 days of 5-minute steps with a daily cycle, a drift and noise, varied by index. */
export function etsSeries(i: number): Float64Array {
  const level = 20 + (i % 7) * 8;
  const amp = 5 + (i % 5) * 3;
  const drift = ((i % 3) - 1) * 0.01;
  return Float64Array.from(
    { length: 576 },
    (_, t) => level + amp * Math.sin((2 * Math.PI * (t + 17 * i)) / 288) + drift * t + 3 * Math.sin(t * 1.7 + i) * Math.cos(t * 0.31 + 2 * i),
  );
}
