/**
 * The seven severity levels (ARCHITECTURE.md "Severity levels") and their default colours.
 *
 * The palette is ColorBrewer's RdYlBu, reversed: it stays distinguishable for the common
 * colour-vision deficiencies because neighbouring levels also differ in lightness, and it reads
 * on both light and dark backgrounds (no level is pure white or black).
 */
export const LEVELS = [
  { level: 0, name: 'healthy', title: 'Healthy', min: 0 },
  { level: 1, name: 'watch', title: 'Watch', min: 30 },
  { level: 2, name: 'degrading', title: 'Degrading', min: 50 },
  { level: 3, name: 'warning', title: 'Warning', min: 60 },
  { level: 4, name: 'danger', title: 'Danger', min: 70 },
  { level: 5, name: 'critical', title: 'Critical', min: 80 },
  { level: 6, name: 'imminent_failure', title: 'Imminent failure', min: 90 },
] as const;

export const DEFAULT_LEVEL_COLORS: readonly string[] = ['#4575b4', '#91bfdb', '#e0f3f8', '#fee090', '#fc8d59', '#d73027', '#67001f'];

/** The level a score (0–100) falls in. */
export function levelOf(score: number): number {
  let l = 0;
  for (const x of LEVELS) {if (score >= x.min) {l = x.level;}}
  return l;
}
