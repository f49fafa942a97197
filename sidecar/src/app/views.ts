/**
 * The API's JSON views of what the last cycle published: /api/v1/fleet and
 * /api/v1/instances/{instance}/forecast (README "HTTP API"). Pure: they read the snapshot,
 * the window it was made from and the runtime, and compute nothing new.
 */
import type { ForecastSnapshot, InstanceState } from '../exporter/exposition';
import { METRIC_NAMES } from '../profiles/profiles';
import type { InstanceRisk } from '../risk/assess';
import { LEVELS } from '../risk/levels';
import { single } from '../series/precision';
import type { FleetSourceJson } from '@foresight/contract';
import type { HistoryWindow } from '../source/source';
import type { Runtime } from './runtime';

/** Where the sidecar reads from, and how that read is going (the fleet JSON's `source`, a contract with the panel). */
export type SourceState = FleetSourceJson;

/** The source's base URL as it may be shown: scheme, host, port and path; never credentials or query. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** /api/v1/fleet: every instance's state, risk, recent scores and current values. */
export function fleetJson(
  s: ForecastSnapshot | undefined,
  w: HistoryWindow | undefined,
  source: SourceState,
  /** An instance's recent scores, [unix seconds, score] pairs, oldest first. */
  recent: (instance: string) => ReadonlyArray<[number, number]>,
): unknown {
  return {
    origin: s?.origin ?? null,
    stale: !source.up,
    lastSuccess: source.lastSuccess,
    step: w?.step ?? null,
    source,
    instances: (s?.instances ?? []).map((i) => ({
      instance: i.instance,
      profile: i.profile,
      ready: i.ready,
      ...stateJson(s?.states?.get(i.instance)),
      history: i.history ?? null,
      ...riskJson(s?.risk.get(i.instance), s?.states?.get(i.instance)),
      recent: recent(i.instance),
      current: Object.fromEntries(Object.entries(i.current).map(([k, v]) => [k, Number.isFinite(v) ? single(v) : null])),
    })),
  };
}

/** fresh | stale | unknown, and the origin of the last good data (null when never complete). */
function stateJson(st: InstanceState | undefined): Record<string, unknown> {
  return { state: st?.state ?? 'fresh', stale: (st?.state ?? 'fresh') !== 'fresh', dataAt: st?.goodAt ?? null };
}

function riskJson(r: InstanceRisk | undefined, st: InstanceState | undefined): Record<string, unknown> {
  // unknown: no score, only the last level seen (as /metrics publishes it)
  if (!r) return st?.level !== undefined ? { level: st.level, severity: LEVELS[st.level]!.name } : {};
  return {
    score: Math.round(r.score * 100) / 100,
    level: r.level,
    severity: LEVELS[r.level]!.name,
    topDriver: r.topDriver ?? null,
    drivers: Object.fromEntries(Object.entries(r.drivers).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    predicted: Object.fromEntries(Object.entries(r.predicted).map(([k, v]) => [k, Math.round(v * 100) / 100])),
  };
}

/** /api/v1/instances/{instance}/forecast: a day of history and every forecast quantile; undefined for an unknown instance. */
export function forecastJson(instance: string, s: ForecastSnapshot | undefined, w: HistoryWindow | undefined, rt: Runtime | undefined): unknown {
  const inst = s?.instances.find((i) => i.instance === instance);
  if (!s || !inst || !w || !rt) return undefined;
  const td = rt.manifest.decoder_length;
  const nq = rt.manifest.quantiles.length;
  // the last day (what the cones draw) up to the snapshot's origin, however much more the model
  // read: the window may be a newer cycle's, read while that cycle forecasts
  const ahead = Math.min(w.length - 1, Math.max(0, Math.round((w.end - s.origin) / w.step)));
  const shown = Math.min(w.length - ahead, Math.round(86400 / w.step));
  const last = w.length - ahead; // one past the last index shown
  const start = w.end - (ahead + shown - 1) * w.step;
  const hist = w.instances.get(instance) ?? {};
  const st = s.states?.get(instance);
  // a stale server's forecast is the one made at its last good origin
  const origin = st?.origin ?? s.origin;
  return {
    instance,
    profile: inst.profile,
    ready: inst.ready,
    ...stateJson(st),
    history: inst.history ?? null,
    origin,
    step: w.step,
    percentiles: rt.manifest.quantiles.map((q) => +(q * 100).toFixed(6)),
    metrics: Object.fromEntries(
      METRIC_NAMES.filter((m) => hist[m]).map((m) => {
        const f = inst.forecasts[m];
        return [
          m,
          {
            history: Array.from(hist[m]!.subarray(last - shown, last), (v, k) => [start + k * w.step, Number.isFinite(v) ? single(v) : null]),
            forecast: f
              ? {
                  times: Array.from({ length: td }, (_, h) => origin + (h + 1) * w.step),
                  quantiles: Object.fromEntries(
                    rt.manifest.quantiles.map((q, k) => [
                      String(+(q * 100).toFixed(6)),
                      Array.from({ length: td }, (_, h) => single(f.quantiles[h * nq + k]!)),
                    ]),
                  ),
                }
              : null,
          },
        ];
      }),
    ),
  };
}
