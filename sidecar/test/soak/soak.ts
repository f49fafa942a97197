/**
 * Soak test: the built sidecar (a real process) against a real Prometheus (two simulated days
 * backfilled with promtool, the last 8 h critical) through the fault proxy, for a few minutes,
 * cycling through the data faults an operator meets: trailing gaps, a failing query (HTTP 500),
 * all-NaN values, a vanished server, a dripping answer, out-of-range and junk values, an
 * oversized answer, Prometheus down, concurrent reloads and SIGHUP. Between faults the data is
 * clean again and every server must come back fresh. From the first vanish on, one more server
 * is gone for good (a decommissioned host): it must go stale, then unknown, and stay there.
 *
 * Throughout, /metrics and /api/v1/fleet are read about once a second; at the end it prints the
 * faults injected, crashes, NaN published, servers shown healthy while their data was missing,
 * the sidecar's peak memory and /metrics latency, and exits non-zero when anything that must be
 * 0 is not.
 *
 *   npm run soak -- [--minutes 5] [--interval 5s]
 *
 * It runs for at least --minutes and at least one pass through every fault.
 *
 * Not part of `npm test`: it runs for minutes.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { accessSync, constants } from 'node:fs';
import { stringify } from 'yaml';
import { BINARIES } from '../harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus, tempDir } from '../harness/prometheus';
import type { PrometheusHandle } from '../harness/prometheus';
import { forEveryRange, forQuery, mapValues, startFaultProxy } from '../harness/fault-proxy';
import type { FaultProxy, FaultRule, PromAnswer } from '../harness/fault-proxy';
import { freePort, startProcess, waitFor } from '../harness/processes';
import type { ManagedProcess } from '../harness/processes';
import { parseExposition } from '../harness/exposition';
import { METRICS } from '../../src/source/promql';

const REPO = path.join(__dirname, '..', '..', '..');
const MAIN = path.join(REPO, 'sidecar', 'dist', 'main.js');
const HOUR = 3600;

interface Options {
  readonly minutes: number;
  /** source.interval of the sidecar: a cycle this often (re-reading the current 5-minute window). */
  readonly interval: string;
}

function parseArgs(argv: readonly string[]): Options {
  let minutes = 5;
  let interval = '5s';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--minutes') minutes = Number(value());
    else if (a === '--interval') interval = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: npm run soak -- [--minutes N (default 5)] [--interval DURATION (default 5s)]\nRuns for at least N minutes and at least one pass through every fault.\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${minutes})`);
  return { minutes, interval };
}

type Kind = 'gap' | 'http_500' | 'nan' | 'vanish' | 'drip' | 'junk' | 'oversize' | 'down' | 'reload' | 'sighup';

interface FleetInstance {
  readonly instance: string;
  readonly state: 'fresh' | 'stale' | 'unknown';
  readonly dataAt: number | null;
  readonly score?: number;
  readonly level?: number;
}

/** What a server showed when its data was last fresh, by the origin of that data. */
interface Good {
  readonly score: number | undefined;
  readonly level: number | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  for (const b of ['prometheus', 'promtool'] as const) {
    try {
      accessSync(BINARIES[b], constants.X_OK);
    } catch {
      process.stderr.write(`soak: needs ${b} (${BINARIES[b]}); install it (see .ci/run)\n`);
      return 2;
    }
  }
  try {
    accessSync(MAIN);
  } catch {
    process.stderr.write(`soak: ${MAIN} is missing; run \`npm run build -w sidecar\` (npm run soak does)\n`);
    return 2;
  }
  const log = (msg: string): void => void process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

  // History up to an hour past the end of the soak: the sidecar runs on real time and reads
  // windows ending now, so the backfilled data must reach beyond it (cached per hour).
  const end = Math.ceil((Date.now() / 1000 + o.minutes * 60 + HOUR) / HOUR) * HOUR;
  log(`backfilling two simulated days with promtool (cached per hour) …`);
  const h = await simulatedHistory({ days: 2, end, schedule: 'healthy,40h:critical', incidents: 4, incidentsWindow: [3 * HOUR, 34 * HOUR] });
  let prom: PrometheusHandle | undefined;
  let proxy: FaultProxy | undefined;
  let sidecar: ManagedProcess | undefined;
  try {
    prom = await startPrometheus({ blocksDir: h.blocksDir });
    const proxyPort = await freePort();
    proxy = await startFaultProxy(prom.url, { port: proxyPort });
    const port = await freePort();
    const dir = await tempDir('soak');
    const configFile = path.join(dir, 'foresight.yml');
    await writeFile(
      configFile,
      stringify({
        listen: `127.0.0.1:${port}`,
        source: {
          type: 'prometheus',
          interval: o.interval,
          keep_stale: '1m',
          forget_after: '1h',
          prometheus: { url: proxy.url, timeout: '10s', deadline: '12s', retries: 0, max_answer_size: '8MiB', max_instances: 25 },
        },
        profiles: { label_query: '' },
        model: { path: path.join(REPO, 'models', 'foresight-tft'), device: 'cpu' },
      }),
    );
    const base = `http://127.0.0.1:${port}`;
    sidecar = startProcess(process.execPath, [MAIN, 'serve', '--config', configFile]);
    const pid = sidecar.pid;
    let exited: number | null | undefined;
    void sidecar.exited.then((code) => (exited = code));
    await waitFor('the sidecar to be ready', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined), 120_000, 250);
    log(`sidecar ${pid} ready on ${base}; Prometheus ${prom.url} behind the fault proxy ${proxy.url}; cycle every ${o.interval}`);

    // ---- observers: cycle events, scrapes, memory ----
    let cycles = 0;
    let failedCycles = 0;
    let observing = true;
    const streamAbort = new AbortController();
    const stream = (async () => {
      while (observing) {
        try {
          const res = await fetch(`${base}/api/v1/stream`, { signal: streamAbort.signal });
          const reader = res.body!.getReader();
          const dec = new TextDecoder();
          let buf = '';
          for (;;) {
            const { value, done } = (await reader.read()) as { value?: Uint8Array; done: boolean };
            if (done) break;
            buf += dec.decode(value, { stream: true });
            let k: number;
            while ((k = buf.indexOf('\n\n')) >= 0) {
              const ev = /^event: (\S+)/m.exec(buf.slice(0, k))?.[1];
              buf = buf.slice(k + 2);
              if (ev === 'cycle') cycles++;
              else if (ev === 'cycle_failed') {
                cycles++;
                failedCycles++;
              }
            }
          }
        } catch {
          // reconnect below (or stop)
        }
        if (observing) await sleep(500);
      }
    })();

    const latencies: number[] = [];
    let unanswered = 0;
    let nanSamples = 0;
    let nanScrapes = 0;
    let rssMaxKb = 0;
    /** Per server: what it showed when fresh, by the origin of that data (dataAt). */
    const good = new Map<string, Map<number, Good>>();
    /** Servers whose data the current fault removes, once the fault has taken effect; else empty. */
    let missing: { kind: Kind; instances: Set<string> } | undefined;
    /** The server gone for good, and the cycle count from which every published state is without it. */
    let gone: { instance: string; since: number; effective: number } | undefined;
    const violations: string[] = [];
    const violated = new Set<string>();
    const violate = (key: string, what: string): void => {
      if (violated.has(key)) return;
      violated.add(key);
      violations.push(what);
      log(`VIOLATION: ${what}`);
    };
    let phaseNo = 0;
    const stateSeen = { stale: 0, unknown: 0 };
    const reloadAnswers = { ok: 0, conflict: 0, other: 0 };
    let unverified = 0;
    let goneUnknown = 0;

    const check = (
      missing: { kind: Kind; instances: Set<string> } | undefined,
      fleet: readonly FleetInstance[],
      metricsStale: ReadonlyMap<string, number>,
    ): void => {
      for (const f of fleet) {
        const byOrigin = good.get(f.instance) ?? new Map<number, Good>();
        good.set(f.instance, byOrigin);
        if (f.state === 'fresh') {
          if (f.dataAt !== null) byOrigin.set(f.dataAt, { score: f.score, level: f.level });
          if (missing?.instances.has(f.instance)) {
            violate(
              `${phaseNo}:${f.instance}:fresh`,
              `${missing.kind}: ${f.instance} shown fresh (score ${f.score}, level ${f.level}) while its data was missing`,
            );
          }
          continue;
        }
        if (f.state === 'stale') stateSeen.stale++;
        else {
          stateSeen.unknown++;
          if (f.instance === gone?.instance) goneUnknown++;
          if (f.score !== undefined)
            violate(`${phaseNo}:${f.instance}:unknown`, `${missing?.kind ?? 'clean'}: ${f.instance} unknown but a score (${f.score}) is published`);
        }
        const was = f.dataAt !== null ? byOrigin.get(f.dataAt) : undefined;
        if (!was) {
          unverified++;
          continue;
        }
        if (was.level !== undefined && (f.level === undefined || f.level < was.level)) {
          violate(
            `${phaseNo}:${f.instance}:level`,
            `${missing?.kind ?? 'clean'}: ${f.instance} ${f.state} at level ${f.level}, below its last good level ${was.level}`,
          );
        }
        // (0.05 points of slack: the same data scored in a batch of another size may differ in the last digit)
        if (f.score !== undefined && was.score !== undefined && f.score < was.score - 0.05) {
          violate(
            `${phaseNo}:${f.instance}:score`,
            `${missing?.kind ?? 'clean'}: ${f.instance} ${f.state} with score ${f.score}, below its last good score ${was.score}`,
          );
        }
      }
      if (missing) {
        for (const i of missing.instances) {
          if (metricsStale.get(i) === 0)
            violate(`${phaseNo}:${i}:metrics`, `${missing.kind}: ${i} published foresight_instance_stale 0 while its data was missing`);
        }
      }
    };

    let latestFleet: FleetInstance[] = [];
    const scraper = (async () => {
      while (observing) {
        const t = Date.now();
        // the fault as it is when this scrape starts: a check never holds a scrape to a fault applied after it was read
        const now =
          gone && cycles >= gone.effective
            ? { kind: missing?.kind ?? ('vanish' as const), instances: new Set([...(missing?.instances ?? []), gone.instance]) }
            : missing;
        try {
          const kRss = procKb(pid, 'VmRSS');
          if (kRss !== undefined) rssMaxKb = Math.max(rssMaxKb, kRss);
          const m0 = performance.now();
          const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
          const text = await res.text();
          const ms = performance.now() - m0;
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          latencies.push(ms);
          // snapshot what the fault is now, then read the fleet: a check never uses a newer fault than it saw
          const samples = parseExposition(text);
          const nan = samples.filter((s) => Number.isNaN(s.value)).length;
          if (nan > 0) {
            nanSamples += nan;
            nanScrapes++;
            log(
              `NaN published: ${samples
                .filter((s) => Number.isNaN(s.value))
                .slice(0, 3)
                .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
                .join(', ')}`,
            );
          }
          const stale = new Map(samples.filter((s) => s.name === 'foresight_instance_stale').map((s) => [s.labels['instance']!, s.value]));
          const fr = await fetch(`${base}/api/v1/fleet`, { signal: AbortSignal.timeout(10_000) });
          if (!fr.ok) throw new Error(`fleet HTTP ${fr.status}`);
          latestFleet = ((await fr.json()) as { instances: FleetInstance[] }).instances;
          check(now, latestFleet, stale);
        } catch (e) {
          if (exited === undefined) {
            unanswered++;
            log(`scrape not answered: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        await sleep(Math.max(0, 1000 - (Date.now() - t)));
      }
    })();

    // ---- the faults ----
    const injected = new Map<Kind, { phases: number; events: number }>();
    const count = (kind: Kind, events: number): void => {
      const c = injected.get(kind) ?? { phases: 0, events: 0 };
      injected.set(kind, { phases: c.phases + 1, events: c.events + events });
    };
    let hits = 0;
    const without = (a: PromAnswer): PromAnswer =>
      gone ? { ...a, data: { ...a.data, result: a.data.result.filter((r) => r.metric['instance'] !== gone!.instance) } } : a;
    /** The phase's rules (each request one matches counted as injected), composed with the server gone for good. */
    const setRules = (rules: readonly FaultRule[]): void => {
      proxy!.setRules([
        ...rules.map((r): FaultRule => {
          const f = r.fault;
          const match = (q: Parameters<FaultRule['match']>[0]): boolean => {
            const m = r.match(q);
            if (m) hits++;
            return m;
          };
          return { match, fault: f.kind === 'rewrite' ? { kind: 'rewrite', rewrite: (a) => f.rewrite(without(a)) } : f };
        }),
        forEveryRange({ kind: 'rewrite', rewrite: without }),
      ]);
    };
    const cyclesAfter = (n: number, what: string, ms = 90_000): Promise<true> =>
      waitFor(what, () => Promise.resolve(exited !== undefined ? Promise.reject(new Error('the sidecar exited')) : cycles >= n ? true : undefined), ms, 100);

    let notRecovered = 0;
    const all = (): Set<string> => new Set(latestFleet.map((f) => f.instance).filter((i) => i !== gone?.instance));
    /** Clean answers until one whole cycle has run on them and every server is fresh. */
    const clean = async (): Promise<void> => {
      missing = undefined;
      phaseNo++;
      setRules([]);
      const at = cycles;
      try {
        await cyclesAfter(at + 2, 'two cycles on clean data');
        await waitFor(
          'every server fresh again',
          () => Promise.resolve(latestFleet.length > 0 && latestFleet.every((f) => f.state === 'fresh' || f.instance === gone?.instance) ? true : undefined),
          60_000,
          250,
        );
      } catch (e) {
        notRecovered++;
        log(`not every server came back fresh on clean data: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const ranked = (): string[] =>
      [...latestFleet]
        .filter((f) => f.instance !== gone?.instance)
        .sort((a, b) => (b.score ?? -1) - (a.score ?? -1))
        .map((f) => f.instance);

    /** Applies proxy rules for two whole cycles; `affected` are the servers whose data they remove. */
    const ruled = async (kind: Kind, rules: readonly FaultRule[], affected: Set<string>): Promise<void> => {
      phaseNo++;
      const before = hits;
      setRules(rules);
      const at = cycles;
      // the cycle in flight may have read before the rules changed; the one after it read under them
      await cyclesAfter(at + 2, `a whole cycle under ${kind}`);
      missing = { kind, instances: affected };
      await cyclesAfter(cycles + 1, `another cycle under ${kind}`);
      await sleep(1500); // at least one scrape of what that cycle published
      missing = undefined;
      count(kind, hits - before);
    };

    const faults: ReadonlyArray<{ kind: Kind; run: () => Promise<void> }> = [
      {
        kind: 'gap',
        run: () => {
          // the riskiest server: the one a gap would most wrongly call healthy
          const worst = ranked()[0]!;
          return ruled(
            'gap',
            [
              forEveryRange({
                kind: 'rewrite',
                rewrite: (a) => mapValues(a, (labels, _t, v, i, n) => (labels['instance'] === worst && i >= n - 3 ? undefined : v)),
              }),
            ],
            new Set([worst]),
          );
        },
      },
      {
        kind: 'vanish',
        run: () => {
          const order = ranked();
          const worst = order[0]!;
          const next = order[1];
          // the next riskiest is gone for good from now on
          if (!gone && next) gone = { instance: next, since: Date.now(), effective: cycles + 2 };
          return ruled(
            'vanish',
            [
              forEveryRange({
                kind: 'rewrite',
                rewrite: (a) => ({ ...a, data: { ...a.data, result: a.data.result.filter((r) => r.metric['instance'] !== worst) } }),
              }),
            ],
            new Set([worst]),
          );
        },
      },
      { kind: 'http_500', run: () => ruled('http_500', [forQuery(METRICS.memory.expr, { kind: 'status', status: 500 })], all()) },
      { kind: 'nan', run: () => ruled('nan', [forEveryRange({ kind: 'rewrite', rewrite: (a) => mapValues(a, () => 'NaN') })], all()) },
      { kind: 'drip', run: () => ruled('drip', [forQuery(METRICS.memory.expr, { kind: 'drip' })], all()) },
      {
        kind: 'junk',
        run: () => {
          const junk = ['', 'null', 'true', '0x10'];
          return ruled(
            'junk',
            [
              // every server's latest memory reads 250 %; junk strings and absurd values mid-window
              forQuery(METRICS.memory.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i, n) => (i === n - 1 ? '250' : v)) }),
              forQuery(METRICS.cpu.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i >= 100 && i < 104 ? junk[i - 100] : v)) }),
              forQuery(METRICS.load.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i === 150 ? '-5' : v)) }),
              forQuery(METRICS.network.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i === 200 ? '1e40' : v)) }),
            ],
            all(),
          );
        },
      },
      { kind: 'oversize', run: () => ruled('oversize', [forQuery(METRICS.memory.expr, { kind: 'oversize', bytes: 64 * 1024 * 1024 })], all()) },
      {
        kind: 'down',
        run: async () => {
          phaseNo++;
          const affected = all();
          const failedBefore = failedCycles;
          await proxy!.close();
          const at = cycles;
          try {
            await cyclesAfter(at + 2, 'a whole cycle with Prometheus down');
            missing = { kind: 'down', instances: affected };
            await cyclesAfter(cycles + 1, 'another cycle with Prometheus down');
            await sleep(1500);
          } finally {
            missing = undefined;
            proxy = await startFaultProxy(prom!.url, { port: proxyPort });
            setRules([]);
          }
          count('down', failedCycles - failedBefore);
        },
      },
      {
        kind: 'reload',
        run: async () => {
          phaseNo++;
          const at = cycles;
          const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${base}/-/reload`, { method: 'POST' })).status));
          const by: Record<number, number> = {};
          for (const s of statuses) by[s] = (by[s] ?? 0) + 1;
          reloadAnswers.ok += by[200] ?? 0;
          reloadAnswers.conflict += by[409] ?? 0;
          reloadAnswers.other += statuses.filter((s) => s !== 200 && s !== 409).length;
          if ((by[200] ?? 0) > 1) reloadAnswers.other += (by[200] ?? 0) - 1;
          await cyclesAfter(at + 1, 'a cycle after the reloads');
          count('reload', statuses.length);
        },
      },
      {
        kind: 'sighup',
        run: async () => {
          phaseNo++;
          const at = cycles;
          for (let k = 0; k < 3; k++) {
            process.kill(pid, 'SIGHUP');
            await sleep(200);
          }
          await cyclesAfter(at + 2, 'cycles after SIGHUP');
          count('sighup', 3);
        },
      },
    ];

    const started = Date.now();
    const until = started + o.minutes * 60_000;
    let passes = 0;
    let error: string | undefined;
    await clean();
    try {
      outer: for (;;) {
        for (const f of faults) {
          if ((Date.now() >= until && passes >= 1) || exited !== undefined) break outer;
          log(`${f.kind}`);
          await f.run();
          if (exited !== undefined) break outer;
          await clean();
        }
        passes++;
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      log(`soak stopped early: ${error}`);
    }
    const minutes = (Date.now() - started) / 60_000;

    // ---- still alive and answering? then a clean shutdown ----
    let crashes = exited !== undefined ? 1 : 0;
    const alive =
      exited === undefined &&
      (await fetch(`${base}/-/healthy`).then(
        (r) => r.ok,
        () => false,
      ));
    if (exited === undefined && !alive) crashes++;
    const hwmKb = procKb(pid, 'VmHWM');
    observing = false;
    streamAbort.abort();
    await scraper;
    await stream;
    let shutdown = 'not tried (it had exited)';
    if (exited === undefined) {
      const t = Date.now();
      process.kill(pid, 'SIGTERM');
      const code = await Promise.race([sidecar.exited, sleep(15_000).then(() => 'still running' as const)]);
      shutdown = code === 0 ? `exit 0 in ${((Date.now() - t) / 1000).toFixed(1)} s` : `FAILED (${String(code)})`;
      if (code !== 0) crashes++;
    }

    // ---- report ----
    const sorted = [...latencies].sort((a, b) => a - b);
    const ms = (v: number): string => `${v.toFixed(1)} ms`;
    const lines = [
      '',
      `soak: ${minutes.toFixed(1)} min, ${passes} full passes of ${faults.length} faults, ${cycles} cycles (${failedCycles} failed: source unreachable), cycle every ${o.interval}`,
      'faults injected (phases / faulted requests, reloads sent, signals sent or failed cycles):',
      ...faults.map((f) => {
        const c = injected.get(f.kind) ?? { phases: 0, events: 0 };
        return `  ${f.kind.padEnd(9)} ${String(c.phases).padStart(3)} / ${c.events}`;
      }),
      `reload answers: ${reloadAnswers.ok} × 200, ${reloadAnswers.conflict} × 409, ${reloadAnswers.other} unexpected`,
      `gone for good: ${gone ? `${gone.instance} since ${new Date(gone.since).toISOString().slice(11, 19)}, seen unknown ${goneUnknown} times` : 'none'}`,
      `servers seen stale: ${stateSeen.stale} times, unknown: ${stateSeen.unknown} times (per scrape and server; ${unverified} not comparable: their last good values were never scraped)`,
      '',
      `crashes:                                ${crashes}${crashes ? ` (exit ${String(exited)})` : ''}; scrapes not answered: ${unanswered}; shutdown: ${shutdown}`,
      `NaN published:                          ${nanSamples} samples in ${nanScrapes} of ${latencies.length} scrapes`,
      `servers shown healthy while missing:    ${violations.length}`,
      ...violations.map((v) => `  ${v}`),
      `clean phases where not all came back:   ${notRecovered}`,
      `max RSS of the sidecar:                 ${hwmKb !== undefined ? `${(hwmKb / 1024).toFixed(0)} MiB (VmHWM)` : 'n/a'}, sampled VmRSS max ${(rssMaxKb / 1024).toFixed(0)} MiB`,
      `/metrics latency over ${latencies.length} scrapes: p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted[sorted.length - 1] ?? NaN)}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (error) process.stdout.write(`stopped early: ${error}\n`);
    const failed =
      crashes > 0 || unanswered > 0 || nanSamples > 0 || violations.length > 0 || notRecovered > 0 || reloadAnswers.other > 0 || error !== undefined;
    if (failed && sidecar) process.stdout.write(`\nlast sidecar output:\n${sidecar.output().slice(-3000)}\n`);
    process.stdout.write(failed ? 'SOAK FAILED\n' : 'soak passed\n');
    return failed ? 1 : 0;
  } finally {
    await sidecar?.stop();
    await proxy?.close().catch(() => undefined);
    await prom?.stop();
    await removeTempDirs();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`soak: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
