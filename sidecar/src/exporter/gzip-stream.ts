/**
 * /metrics gzip-encoded as ONE gzip stream, though its parts are encoded at different times: the
 * forecasts once per cycle (tens of MB at 10,000 servers, off the event loop), the small
 * self-monitoring part on every scrape. Two gzip members back to back are valid gzip, and Go's
 * reader (Prometheus) reads them all, but `curl --compressed` and other clients stop after the
 * first. So the forecasts are deflated without a final block, ending on a byte boundary (a sync
 * flush); each scrape appends the self-monitoring part's deflate blocks and the gzip trailer,
 * whose CRC-32 continues the forecasts' own.
 */
import { Readable } from 'node:stream';
import { constants, crc32, createDeflateRaw, createInflateRaw, deflateRawSync } from 'node:zlib';
import { loopPauser } from '../pause';

/** The encoded start of a gzip stream: deflate blocks, none final, and what the trailer needs. */
export interface GzipHead {
  readonly deflated: Buffer;
  /** CRC-32 of the uncompressed bytes so far. */
  readonly crc: number;
  /** Uncompressed bytes so far. */
  readonly length: number;
}

/** gzip header: deflate, no name or time, OS unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);

/**
 * `chunks` deflated (level 6) off the event loop as they come, as the head of a stream that more
 * blocks will follow; their CRC-32 is computed between pauses of the event loop. A chunk is let
 * go once the encoder has taken it (it waits when the encoder is behind), so a caller that
 * renders as it goes never holds the whole text. Resolves undefined on an encoder error
 * (/metrics then answers uncompressed).
 */
export async function deflateHead(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<GzipHead | undefined> {
  const z = createDeflateRaw({ level: 6 });
  const out: Buffer[] = [];
  let failed = false;
  z.on('data', (b: Buffer) => out.push(b));
  z.on('error', () => (failed = true));
  const pause = loopPauser();
  let crc = 0;
  let length = 0;
  for await (const c of chunks) {
    await pause();
    if (failed) break;
    crc = crc32(c, crc);
    length += c.length;
    if (!z.write(c)) {
      // the encoder is behind: wait until it has taken what it holds (or failed)
      await new Promise<void>((resolve) => {
        const done = (): void => {
          z.off('drain', done).off('error', done);
          resolve();
        };
        z.on('drain', done).on('error', done);
      });
    }
  }
  if (!failed) await new Promise<void>((resolve) => z.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  // the flush's output is pushed before its callback; a turn of the loop lets every 'data' event run
  await new Promise((r) => setImmediate(r));
  z.close();
  return failed ? undefined : { deflated: Buffer.concat(out), crc, length };
}

/** One gzip stream: `head` and then `tail` (encoded now), in parts to send one after another. */
export function gzipStream(head: GzipHead, tail: Buffer): Buffer[] {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(tail, head.crc) >>> 0, 0);
  trailer.writeUInt32LE((head.length + tail.length) % 2 ** 32, 4);
  return [HEADER, head.deflated, deflateRawSync(tail, { level: 6 }), trailer];
}

/** A final, empty deflate block (fixed Huffman): ends the stream after a sync flush. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** The head's uncompressed bytes, decoded as they are read (for scrapes that do not ask for gzip). */
export function inflateHead(head: GzipHead): Readable {
  return Readable.from([head.deflated, FINAL_BLOCK]).pipe(createInflateRaw());
}
