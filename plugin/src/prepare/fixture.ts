/** The recorded frames (sidecar + Prometheus, see sidecar/test/plugin-fixtures.record.ts), for tests. */
import type { DataFrame } from '@grafana/data';
import recorded from '../__fixtures__/frames.json';

export const heatmapFrames = recorded.heatmap as unknown as DataFrame[];
export const coneFrames = recorded.cones as unknown as DataFrame[];

interface RawFrame {
  name: string;
  fields: Array<{ values: number[]; labels?: Record<string, string> }>;
}

/** Raw values of the recorded series matching a name and labels: the test's independent view. */
export function raw(
  frames: readonly unknown[],
  name: string,
  labels: Record<string, string>
): { times: number[]; values: number[] } {
  const f = (frames as RawFrame[]).find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.fields[1]!.labels?.[k] === v)
  );
  if (!f) {
    throw new Error(`fixture has no ${name} ${JSON.stringify(labels)}`);
  }
  return { times: f.fields[0]!.values, values: f.fields[1]!.values };
}
