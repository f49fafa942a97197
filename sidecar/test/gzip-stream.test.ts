/**
 * The forecasts' gzip head is deflated while the exposition is rendered, chunk by chunk, with the
 * encoder often behind: whatever arrives, the gzip stream a scrape gets must decode to exactly the
 * text, and plain scrapes must get the same text back from the head.
 */
import { gunzipSync } from 'node:zlib';
import { deflateHead, gzipStream, inflateHead } from '../src/exporter/gzip-stream';

/** Chunks of 256 KB of varied text (the encoder cannot keep up with them), yielded with pauses like a renderer's. */
async function* rendered(count: number): AsyncGenerator<Buffer> {
  for (let k = 0; k < count; k++) {
    const lines = Array.from(
      { length: 4096 },
      (_, i) => `foresight_forecast{instance="host${k}-${i}",metric="cpu",horizon="1h",percentile="50"} ${((k * 7919 + i * 104729) % 10007) / 100}\n`,
    );
    yield Buffer.from(lines.join('').padEnd(262_144, '#'));
    await new Promise((r) => setImmediate(r));
  }
}

async function text(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const c of chunks) all.push(c);
  return Buffer.concat(all);
}

describe('gzip head', () => {
  it('deflates a rendered stream as it comes into one gzip stream that decodes to the whole text', async () => {
    const expected = await text(rendered(12));
    const head = await deflateHead(rendered(12));
    expect(head).toBeDefined();
    expect(head!.length).toBe(expected.length);
    expect(head!.deflated.length).toBeLessThan(expected.length / 4);
    const tail = Buffer.from('foresight_up 1\n');
    const body = gunzipSync(Buffer.concat(gzipStream(head!, tail)));
    expect(body.equals(Buffer.concat([expected, tail]))).toBe(true);
  });

  it('gives plain scrapes the same text back', async () => {
    const head = (await deflateHead(rendered(3)))!;
    expect((await text(inflateHead(head))).equals(await text(rendered(3)))).toBe(true);
  });

  it('is an empty head for an empty fleet', async () => {
    const head = (await deflateHead([]))!;
    expect(head.length).toBe(0);
    expect(gunzipSync(Buffer.concat(gzipStream(head, Buffer.from('x\n')))).toString()).toBe('x\n');
  });
});
