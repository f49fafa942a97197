'use strict';
/**
 * Builds what a command from a clone needs, only where it is out of date, and says what it does:
 * the contract package the sidecar and the panel share (contract/dist, tsc) and the sidecar (tsc,
 * incremental) when a file under their src/ is newer than everything in their dist/, and with
 * --preview the preview page's bundle (plugin/dist-preview, webpack) when the panel's sources are
 * newer than it. An installed copy without sources builds nothing.
 *
 *   node sidecar/bin/build.js [--preview]
 *
 * Plain JavaScript: it runs before anything is compiled.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const SIDECAR = path.join(__dirname, '..');
const PLUGIN = path.join(SIDECAR, '..', 'plugin');
const CONTRACT = path.join(SIDECAR, '..', 'contract');

/** The newest modification time (ms) of the files and directories under `paths` (0 when none exist). */
function newest(paths) {
  let max = 0;
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    max = Math.max(max, st.mtimeMs);
    if (st.isDirectory()) for (const name of readdirSync(p)) if (name !== 'node_modules') visit(path.join(p, name));
  };
  paths.forEach(visit);
  return max;
}

/** The parts a build covers: what it reads, what it writes, how to run it. */
const PARTS = {
  contract: {
    what: 'the contract package',
    dir: CONTRACT,
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    outputs: ['dist'],
    required: 'dist/index.js',
    state: 'dist/.tsbuildinfo',
    tool: 'typescript/bin/tsc',
    args: ['-p', 'tsconfig.build.json'],
  },
  sidecar: {
    what: 'the sidecar',
    dir: SIDECAR,
    // the contract's sources too: the sidecar typechecks against them
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', '../contract/src'],
    outputs: ['dist'],
    required: 'dist/main.js',
    // tsc's incremental state: without its outputs it would not write them again
    state: 'dist/.tsbuildinfo',
    tool: 'typescript/bin/tsc',
    args: ['-p', 'tsconfig.build.json'],
  },
  preview: {
    what: "the preview page's bundle",
    dir: PLUGIN,
    inputs: ['src', 'preview', 'package.json', 'tsconfig.json', '../contract/src'],
    outputs: ['dist-preview'],
    required: 'dist-preview/preview.js',
    tool: 'webpack-cli/bin/cli.js',
    args: ['-c', 'preview/webpack.config.ts'],
  },
};

/** Why a part needs building, or undefined when it is up to date (or has no sources here). */
function staleness(part) {
  const at = (p) => path.join(part.dir, p);
  if (!existsSync(at(part.inputs[0]))) return undefined;
  if (!existsSync(at(part.required))) return `${path.relative(process.cwd(), at(part.required)) || part.required} is missing`;
  const out = newest(part.outputs.map(at));
  return newest(part.inputs.map(at)) > out ? `its sources changed since the last build` : undefined;
}

/** Builds each named part that is out of date; returns false (after saying why) when a build fails. */
function ensureBuilt(names, log = (line) => process.stderr.write(`${line}\n`)) {
  for (const name of names) {
    const part = PARTS[name];
    const why = staleness(part);
    if (why === undefined) continue;
    let tool;
    try {
      tool = require.resolve(part.tool, { paths: [part.dir] });
    } catch {
      log(`foresight: cannot build ${part.what} (${why}): ${part.tool.split('/')[0]} is not installed; run npm install in the repository`);
      return false;
    }
    if (part.state && !existsSync(path.join(part.dir, part.required))) rmSync(path.join(part.dir, part.state), { force: true });
    log(`foresight: building ${part.what} (${why}) …`);
    const started = Date.now();
    const r = spawnSync(process.execPath, [tool, ...part.args], { cwd: part.dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      log(`foresight: building ${part.what} failed (${r.signal ?? `exit ${r.status}`}); the errors are above`);
      return false;
    }
    // the stamp: an up-to-date build is newer than its sources even where tsc rewrote no file
    const stamp = path.join(part.dir, part.outputs[0], '.built');
    mkdirSync(path.dirname(stamp), { recursive: true });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
    log(`foresight: built ${part.what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return true;
}

module.exports = { ensureBuilt };

if (require.main === module) {
  const names = ['contract', 'sidecar', ...(process.argv.includes('--preview') ? ['preview'] : [])];
  process.exitCode = ensureBuilt(names) ? 0 : 1;
}
