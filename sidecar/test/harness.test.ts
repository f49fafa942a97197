/** The integration harness itself: a real Alertmanager delivers to a local webhook, and stops by PID. */
import { describeWith } from './harness/integration';
import { startAlertmanager } from './harness/alertmanager';
import { startWebhookReceiver } from './harness/webhook';
import { removeTempDirs } from './harness/prometheus';
import { waitFor } from './harness/processes';

jest.setTimeout(60_000);

describeWith(['alertmanager'])('alertmanager harness', () => {
  afterAll(() => removeTempDirs());

  test('when an alert is posted, then Alertmanager delivers it to the webhook without gossip delay; stop ends the process', async () => {
    const hook = await startWebhookReceiver();
    const am = await startAlertmanager(
      [
        'route:',
        '  receiver: hook',
        '  group_wait: 0s',
        '  group_interval: 1s',
        'receivers:',
        '  - name: hook',
        '    webhook_configs:',
        `      - url: ${hook.url}/hook`,
        '',
      ].join('\n'),
    );
    try {
      const posted = Date.now() / 1000;
      const res = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels: { alertname: 'HarnessCheck', instance: 'ppml0001', severity: 'critical' } }]),
      });
      expect(res.status).toBe(200);
      const got = await waitFor('a webhook delivery', () => Promise.resolve(hook.received[0]), 15_000, 100);
      expect(got.path).toBe('/hook');
      expect(got.message.alerts.map((a) => a.labels)).toEqual([{ alertname: 'HarnessCheck', instance: 'ppml0001', severity: 'critical' }]);
      // without --cluster.listen-address= this takes ~10 s
      expect(got.at - posted).toBeLessThan(5);
    } finally {
      await am.stop();
      await hook.stop();
    }
    expect(await am.process.exited).not.toBeUndefined();
    expect(() => process.kill(am.process.pid, 0)).toThrow();
  });
});
