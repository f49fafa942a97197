/** Real Alertmanager for integration tests, started with the flags that work without a cluster or a writable default path. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BINARIES } from './integration';
import { freePort, startProcess, waitFor } from './processes';
import type { ManagedProcess } from './processes';
import { tempDir } from './prometheus';

export interface AlertmanagerHandle {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** host:port, for Prometheus' alerting config. */
  readonly hostPort: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts Alertmanager with `configYaml`; gossip is off (`--cluster.listen-address=`) so notifications are not held ~10 s. */
export async function startAlertmanager(configYaml: string): Promise<AlertmanagerHandle> {
  const dir = await tempDir('alertmanager');
  const configFile = path.join(dir, 'alertmanager.yml');
  await writeFile(configFile, configYaml);
  await mkdir(path.join(dir, 'data'));
  const port = await freePort();
  const hostPort = `127.0.0.1:${port}`;
  const proc = startProcess(BINARIES.alertmanager, [
    `--config.file=${configFile}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=${hostPort}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  const url = `http://${hostPort}`;
  const exitedEarly = proc.exited.then((code) => {
    throw new Error(`alertmanager exited (code ${code}) before it was ready:\n${proc.output()}`);
  });
  exitedEarly.catch(() => undefined);
  await Promise.race([waitFor('alertmanager /-/ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30000, 100), exitedEarly]);
  return { url, hostPort, process: proc, stop: () => proc.stop() };
}
