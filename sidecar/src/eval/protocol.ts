/** What the evaluation compares, at which horizons: shared by run.ts and report.ts. */

/** Horizons and their steps of 5 minutes. */
export const HORIZONS: ReadonlyArray<readonly [string, number]> = [
  ['30m', 6],
  ['1h', 12],
  ['2h', 24],
  ['4h', 48],
  ['8h', 96],
];
/** Steps of 5 minutes in a day and a week. */
export const DAY = 288;
export const WEEK = 7 * DAY;

export const MODEL = 'Foresight TFT (p50)';
/** The model's p10/p50/p90 only: its pinball on the same three quantiles the augurs baselines give. */
export const MODEL_3Q = 'Foresight TFT (p10/p50/p90)';
export const BASELINES = [
  'last value',
  'seasonal naive 1d',
  'seasonal naive 1w',
  'predict_linear 1h',
  'predict_linear 6h',
  'AutoETS (AZN)',
  'MSTL (1d)',
] as const;
export type Baseline = (typeof BASELINES)[number];
/** History each baseline is fitted on (steps before and at the origin). */
export const BASELINE_HISTORY: Readonly<Record<Baseline, number>> = {
  'last value': 1,
  'seasonal naive 1d': DAY,
  'seasonal naive 1w': WEEK,
  'predict_linear 1h': 12,
  'predict_linear 6h': 72,
  'AutoETS (AZN)': 2 * DAY,
  'MSTL (1d)': 3 * DAY,
};
