/**
 * A single-precision value (history windows and forecasts are float32) as the shortest decimal
 * that reads back as the same float32: 23.4, not 23.399999618530273. For /metrics and the API.
 */
export function single(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(7)) : v;
}
