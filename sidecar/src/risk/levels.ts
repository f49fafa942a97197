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

/**
 * Hysteresis: a level is entered as soon as the score reaches it, but left downwards only when
 * the score falls `margin` points below the level's lower bound. A server hovering at 59–61
 * stays at warning instead of flapping between degrading and warning every cycle.
 */
export function levelWithHysteresis(score: number, previous: number | undefined, margin = 3): number {
  const raw = levelOf(score);
  if (previous === undefined || raw >= previous) return raw;
  // going down: hold the previous level while within the margin below its bound
  let level = previous;
  while (level > raw && score < LEVELS[level]!.min - margin) level--;
  return Math.max(level, raw);
}
