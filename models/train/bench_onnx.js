#!/usr/bin/env node
// Inference speed of an exported model through onnxruntime-node on this machine's CPU, in series
// per second (a series is one metric of one server), at several batch sizes.
//
//   node models/train/bench_onnx.js <model.onnx> [model.json] [--threads 2] [--batches 8,32,128] [--seconds 3]
//
// Works for both contracts: v1 (one series per batch row) and v2 (one server, all metrics, per row),
// read from model.json (or, for an unexported probe, from a sibling <name>.json with the lengths).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ort = require('onnxruntime-node');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function fill(n, f) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

function feedsFor(manifest, b) {
  const m = 6;
  if (manifest.history !== undefined || manifest.contract_version === 2) {
    const L = manifest.history ?? manifest.history_length;
    const W = manifest.week ?? manifest.week_length;
    const T = manifest.total ?? manifest.encoder_length + manifest.decoder_length;
    const wave = (i) => 40 + 30 * Math.sin(i / 7) + 5 * Math.random();
    return {
      rowsPerBatchRow: m,
      feeds: {
        history: new ort.Tensor('float32', fill(b * L * m, wave), [b, L, m]),
        history_mask: new ort.Tensor('float32', fill(b * L * m, () => 1), [b, L, m]),
        week: new ort.Tensor('float32', fill(b * W * m, wave), [b, W, m]),
        week_mask: new ort.Tensor('float32', fill(b * W * m, () => 1), [b, W, m]),
        known: new ort.Tensor('float32', fill(b * T * 4, (i) => Math.sin(i)), [b, T, 4]),
        static_profile: new ort.Tensor('int64', BigInt64Array.from({ length: b }, (_, i) => BigInt(i % 7)), [b]),
      },
    };
  }
  const te = manifest.encoder_length;
  const t = te + manifest.decoder_length;
  const wave = (i) => 40 + 30 * Math.sin(i / 7) + 5 * Math.random();
  return {
    rowsPerBatchRow: 1,
    feeds: {
      past_target: new ort.Tensor('float32', fill(b * te, wave), [b, te]),
      past_target_mask: new ort.Tensor('float32', fill(b * te, () => 1), [b, te]),
      past_observed: new ort.Tensor('float32', fill(b * te * m, wave), [b, te, m]),
      past_observed_mask: new ort.Tensor('float32', fill(b * te * m, () => 1), [b, te, m]),
      known: new ort.Tensor('float32', fill(b * t * 4, (i) => Math.sin(i)), [b, t, 4]),
      static_profile: new ort.Tensor('int64', BigInt64Array.from({ length: b }, (_, i) => BigInt(i % 7)), [b]),
      static_metric: new ort.Tensor('int64', BigInt64Array.from({ length: b }, (_, i) => BigInt(i % 6)), [b]),
    },
  };
}

async function main() {
  const onnxPath = process.argv[2];
  if (!onnxPath) throw new Error('usage: bench_onnx.js <model.onnx> [model.json]');
  let jsonPath = process.argv[3] && !process.argv[3].startsWith('--') ? process.argv[3] : path.join(path.dirname(onnxPath), 'model.json');
  if (!fs.existsSync(jsonPath)) jsonPath = onnxPath.replace(/\.onnx$/, '.json');
  const manifest = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const threads = Number(arg('--threads', '2'));
  const seconds = Number(arg('--seconds', '3'));
  const batches = arg('--batches', '8,32,128').split(',').map(Number);
  ort.env.logLevel = 'fatal';
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  const results = [];
  for (const b of batches) {
    const { feeds, rowsPerBatchRow } = feedsFor(manifest, b);
    await session.run(feeds); // warm-up
    let runs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < seconds) {
      await session.run(feeds);
      runs++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const series = runs * b * rowsPerBatchRow;
    // series per CPU-second: less sensitive than wall time to other processes on a shared machine
    const perCpuSecond = Math.round(series / cpuSeconds);
    results.push({ batch: b, seriesPerBatch: b * rowsPerBatchRow, seriesPerSecond: Math.round(series / elapsed), seriesPerCpuSecond: perCpuSecond });
    console.log(`${path.basename(onnxPath)} threads ${threads} batch ${b} (${b * rowsPerBatchRow} series): ${Math.round(series / elapsed)} series/s wall, ${perCpuSecond} series per CPU-second`);
  }
  const best = results.reduce((a, r) => (r.seriesPerSecond > a.seriesPerSecond ? r : a));
  console.log(JSON.stringify({ model: onnxPath, threads, best }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
