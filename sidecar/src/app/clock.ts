/**
 * The clock the sidecar's cycles run on. Prometheus mode runs on real time; the embedded
 * simulator can run faster (`source.simulator.speed`), so a demo shows hours of the simulated
 * fleet in minutes: every simulated value is a pure function of time, so nothing else changes.
 */

export interface Clock {
  /** Unix seconds on this clock (the data's time: forecast origins, scenario switches). */
  now(): number;
  /** Simulated seconds per wall-clock second (1 = real time). */
  readonly speed: number;
  /** Wall-clock milliseconds until `seconds` have passed on this clock. */
  wallMs(seconds: number): number;
}

/** Real time, or a clock that starts at the wall clock's now and runs `speed` times as fast. */
export function createClock(speed: number, wallNow: () => number = () => Date.now() / 1000): Clock {
  if (!(speed >= 1) || !Number.isFinite(speed)) throw new RangeError(`clock speed must be a finite number ≥ 1 (got ${speed})`);
  const wallStart = wallNow();
  return {
    now: speed === 1 ? wallNow : () => wallStart + (wallNow() - wallStart) * speed,
    speed,
    wallMs: (seconds) => (Math.max(0, seconds) * 1000) / speed,
  };
}
