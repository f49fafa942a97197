/**
 * The risk engine's behaviour contract (README "Risk scoring"), one table row per
 * case, each with the reason it must hold.
 */
import { DEFAULT_THRESHOLDS } from '../src/profiles/profiles';
import type { MetricName, ProfileName } from '../src/profiles/profiles';
import { scoreRisk, timeToCross } from '../src/risk/score';
import { steadyClimbSeconds } from '../src/series/steady-climb';
import type { MetricInput } from '../src/risk/score';
import { levelOf, levelWithHysteresis, LEVELS } from '../src/risk/levels';

const STEP = 300;
const Q = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];
const HORIZONS = [
  ['30m', 5],
  ['1h', 11],
  ['2h', 23],
  ['4h', 47],
  ['8h', 95],
].map(([label, index]) => ({ label: label as string, index: index as number }));

/** 13 points (one hour) ending at `now`, rising linearly from `from`. */
function recent(now: number, from = now): number[] {
  return Array.from({ length: 13 }, (_, k) => from + ((now - from) * k) / 12);
}

/** A 96-step forecast whose p50 goes from `start` to `end` linearly over `rampSteps`, then holds; bands ±spread. */
function forecast(start: number, end: number, rampSteps = 96, spread = 2): Float32Array {
  const f = new Float32Array(96 * Q.length);
  for (let h = 0; h < 96; h++) {
    const p50 = start + (end - start) * Math.min(1, (h + 1) / rampSteps);
    Q.forEach((q, k) => (f[h * Q.length + k] = p50 + (q - 0.5) * 2 * spread * 1.6));
  }
  return f;
}

function level(profile: ProfileName, metrics: Partial<Record<MetricName, MetricInput>>): { level: string; score: number; top: string | undefined } {
  const r = scoreRisk({ thresholds: DEFAULT_THRESHOLDS[profile], metrics, step: STEP, quantiles: Q, horizons: HORIZONS });
  return { level: LEVELS[levelOf(r.score)]!.name, score: Math.round(r.score), top: r.topDriver };
}

const atLeast = (name: string) => LEVELS.findIndex((l) => l.name === name);

describe('risk scoring: behaviour cases', () => {
  test.each([
    // profile-aware: a database's buffer pool keeps memory near 100 % by design
    ['database at 98 % memory alone', 'database', { memory: { recent: recent(98), forecast: forecast(98, 98) } }, 0, 1],
    // profile-aware: on ml_compute, 98 % memory means the OOM killer is about to take the job
    ['ml_compute at 98 % memory', 'ml_compute', { memory: { recent: recent(98), forecast: forecast(98, 98) } }, 5, 6],
    // profile-aware: training at 100 % CPU is the job, not a risk
    ['ml_compute at 100 % CPU (training)', 'ml_compute', { cpu: { recent: recent(100, 10), forecast: forecast(100, 100) } }, 0, 0],
    // trend-aware: a steady 40 % is a normal day
    ['generic CPU 40 % steady', 'generic', { cpu: { recent: recent(40), forecast: forecast(40, 40) } }, 0, 0],
    // trend-aware: the same 40 % after climbing from 20 % in an hour is heading somewhere
    ['generic CPU 40 % after climbing from 20 %', 'generic', { cpu: { recent: recent(40, 20), forecast: forecast(40, 40) } }, 1, 6],
    // compound: one hot metric is a busy server
    ['generic CPU 85 % alone', 'generic', { cpu: { recent: recent(85), forecast: forecast(85, 85) } }, 0, 3],
    // compound: CPU and memory together is a server about to fall over
    [
      'generic CPU 85 % with memory 90 %',
      'generic',
      { cpu: { recent: recent(85), forecast: forecast(85, 85) }, memory: { recent: recent(90), forecast: forecast(90, 90) } },
      5,
      6,
    ],
    // prediction-aware: a forecast alone escalates by lead time — 95 % in 45 min earns danger
    ['generic CPU 40 % now, p50 95 % in 45 min', 'generic', { cpu: { recent: recent(40), forecast: forecast(40, 100, 10) } }, 4, 6],
    // prediction-aware: crossing within 30 min earns critical
    ['generic memory 60 % now, p50 crosses 95 % in 25 min', 'generic', { memory: { recent: recent(60), forecast: forecast(60, 100, 6) } }, 5, 6],
    // prediction-aware: crossing in ~6 h earns degrading, an early heads-up
    ['generic disk 60 % now, p50 crosses 95 % in ~6 h', 'generic', { disk: { recent: recent(60), forecast: forecast(60, 97, 78) } }, 2, 3],
    // prediction-aware: only p90 crossing within 1 h is one level lower than p50 would be (warning, not danger)
    ['generic CPU 40 % now, only p90 crosses in 50 min', 'generic', { cpu: { recent: recent(40), forecast: forecast(40, 82, 10, 12) } }, 3, 3],
    // a leak: ml_compute memory climbing steadily 80 → 90 % in the last hour while the model still
    // forecasts recovery; the straight line reaches 98 % in under an hour, which earns warning
    [
      'ml_compute memory leaking 80 → 90 % in an hour, forecast flat',
      'ml_compute',
      { memory: { recent: recent(90, 80), forecast: forecast(88, 88, 96, 0.5) } },
      3,
      4,
    ],
    // memory that wanders up and down is not a leak, whatever its last hour's slope
    [
      'web_api memory wandering 60–75 %',
      'web_api',
      { memory: { recent: [60, 72, 63, 75, 61, 70, 64, 74, 62, 71, 66, 75, 68], forecast: forecast(68, 68, 96, 0.5) } },
      0,
      1,
    ],
    // spikes are not states: one 5-minute burst of load on a web server (1.8 per core after an
    // hour at 0.5) is neither a warning-level value nor a steep trend
    [
      'web_api load 0.5 per core with a one-sample burst to 1.8',
      'web_api',
      { load: { recent: [...recent(0.5).slice(0, 12), 1.8], forecast: forecast(0.6, 0.6, 96, 0.1) } },
      0,
      1,
    ],
    // …but the same load held for 15 minutes is the server's state
    [
      'web_api load 1.8 per core for 15 minutes',
      'web_api',
      { load: { recent: [...recent(0.5).slice(0, 10), 1.8, 1.8, 1.8], forecast: forecast(1.8, 1.8, 96, 0.05) } },
      3,
      6,
    ],
  ] as const)('when %s, then the level is in range', (_name, profile, metrics, lo, hi) => {
    const r = level(profile, metrics);
    expect({ ..._nameless(r), ok: atLeast(r.level) >= lo && atLeast(r.level) <= hi }).toEqual({ ..._nameless(r), ok: true });
  });

  test('when the p50 crosses critical in about 3 h, then the predicted columns warm towards the crossing instead of reading healthy before it', () => {
    // memory 60 % now, p50 rising in a straight line to 100 % at +3h20m: crosses 98 % (ml_compute critical) at ~+3h10m
    const r = scoreRisk({
      thresholds: DEFAULT_THRESHOLDS.ml_compute,
      metrics: { memory: { recent: recent(60), forecast: forecast(60, 100, 40) } },
      step: STEP,
      quantiles: Q,
      horizons: HORIZONS,
    });
    const ttb = r.timeToBreach.memory![Q.indexOf(0.5)]!;
    expect(ttb).toBeGreaterThan(3 * 3600);
    expect(ttb).toBeLessThan(3.5 * 3600);
    const lvl = (h: string): string => LEVELS[levelOf(r.predicted[h]!)]!.name;
    // +30m: ~2h40m before the crossing → degrading; +2h: ~1h10m → warning; +4h: past it → the level there
    expect([lvl('30m'), lvl('1h'), lvl('2h'), lvl('4h')]).toEqual(['degrading', 'degrading', 'warning', 'imminent_failure']);
    // predicted risk never falls while the crossing comes closer
    const seq = HORIZONS.map((h) => r.predicted[h.label]!);
    for (let k = 1; k < 4; k++) expect(seq[k]!).toBeGreaterThanOrEqual(seq[k - 1]!);
  });

  test('when an instance has no forecast yet, then it is scored on current state only', () => {
    const withoutForecast = level('generic', { cpu: { recent: recent(40, 20) } });
    expect(withoutForecast.level).toBe('watch');
  });

  test('when a score is explained, then the drivers add up to it and name metric, trend, forecast and compound', () => {
    const r = scoreRisk({
      thresholds: DEFAULT_THRESHOLDS.generic,
      metrics: { cpu: { recent: recent(75, 60), forecast: forecast(75, 80) }, memory: { recent: recent(80), forecast: forecast(80, 100, 20) } },
      step: STEP,
      quantiles: Q,
      horizons: HORIZONS,
    });
    expect(Object.values(r.drivers).reduce((a, b) => a + b, 0)).toBeCloseTo(r.score, 6);
    // CPU at 75 % rising 15 points an hour is the worst current metric (its level the biggest share, its trend lifting it to the
    // edge of warning); memory at 80 % adds compound stress, and its forecast reaching 100 % weighs in the blend
    expect(Object.keys(r.drivers).sort()).toEqual(['compound', 'cpu', 'cpu_trend', 'memory_forecast']);
    expect(r.topDriver).toBe('cpu');
  });
});

function _nameless(r: { level: string; score: number; top: string | undefined }) {
  return { level: r.level, score: r.score };
}

describe('hysteresis', () => {
  test('when a score hovers at the degrading/warning boundary, then the level does not flap', () => {
    let prev: number | undefined;
    const levels = [61, 59, 60.5, 58, 59.5, 57.5, 56.9, 55].map((s) => (prev = levelWithHysteresis(s, prev)));
    // up at once on 61; held at warning while ≥ 57 (3 points below 60); down at 56.9
    expect(levels.map((l) => LEVELS[l]!.name)).toEqual(['warning', 'warning', 'warning', 'warning', 'warning', 'warning', 'degrading', 'degrading']);
  });

  test('when a score drops far, then the level follows at once', () => {
    expect(LEVELS[levelWithHysteresis(10, 5)]!.name).toBe('healthy');
  });
});

describe('steady climbs of filling metrics', () => {
  test("when memory rises in a straight line, then the time to the threshold is the line's", () => {
    // 1 % per 5 minutes = 12 %/h; median of the last three samples is 89 (one step back), 9 % to go at 12 %/h
    const r = Array.from({ length: 13 }, (_, k) => 78 + k);
    expect(steadyClimbSeconds(r, STEP, 98)).toBeCloseTo((98 - 89) / (1 / STEP), 6);
  });

  test('when the last hour is a jump, a zigzag, a fall, or already over the threshold, then it is +Inf or 0', () => {
    const jump = [...Array.from({ length: 10 }, () => 50), 80, 80, 80];
    expect(steadyClimbSeconds(jump, STEP, 98)).toBe(Infinity);
    expect(steadyClimbSeconds([60, 72, 63, 75, 61, 70, 64, 74, 62, 71, 66, 75, 68], STEP, 98)).toBe(Infinity);
    expect(
      steadyClimbSeconds(
        Array.from({ length: 13 }, (_, k) => 90 - k),
        STEP,
        98,
      ),
    ).toBe(Infinity);
    expect(
      steadyClimbSeconds(
        Array.from({ length: 13 }, (_, k) => 90 + k),
        STEP,
        98,
      ),
    ).toBe(0);
  });
});

describe('time to breach', () => {
  test('when the p50 crosses between two steps, then the time is interpolated within the step', () => {
    const f = new Float32Array([90, 100, 100]);
    expect(timeToCross(80, f, 1, 0, 95, 300)).toBe(450);
  });
  test('when the forecast never reaches the threshold, then it is +Inf; when already there, 0', () => {
    expect(timeToCross(50, new Float32Array([60, 70]), 1, 0, 95, 300)).toBe(Infinity);
    expect(timeToCross(96, new Float32Array([60, 70]), 1, 0, 95, 300)).toBe(0);
  });
});
