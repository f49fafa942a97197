import { LEVELS, levelOf } from '@foresight/contract';

/** The seven severity levels and the score → level mapping are the contract package's. */
export { LEVELS, levelOf } from '@foresight/contract';

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
