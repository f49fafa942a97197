/** The seven severity levels (README "Risk scoring", a contract). */
export const LEVELS = [
  { level: 0, name: 'healthy', display: 'Healthy', min: 0 },
  { level: 1, name: 'watch', display: 'Watch', min: 30 },
  { level: 2, name: 'degrading', display: 'Degrading', min: 50 },
  { level: 3, name: 'warning', display: 'Warning', min: 60 },
  { level: 4, name: 'danger', display: 'Danger', min: 70 },
  { level: 5, name: 'critical', display: 'Critical', min: 80 },
  { level: 6, name: 'imminent_failure', display: 'Imminent Failure', min: 90 },
] as const;

/** The level a score (0–100) falls in, without hysteresis. */
export function levelOf(score: number): number {
  for (let i = LEVELS.length - 1; i > 0; i--) if (score >= LEVELS[i]!.min) return i;
  return 0;
}
