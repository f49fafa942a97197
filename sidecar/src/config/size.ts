/**
 * Sizes in bytes as config values: `128MiB`, `64KiB`, `1GiB`, `500B` or a plain number of bytes.
 * Binary units only, so `MiB` means what it says.
 */
const UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2] ?? 'B']!;
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : undefined;
}

/** The shortest exact form: 134217728 → "128MiB", 1536 → "1.5KiB". */
export function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    const n = bytes / UNITS[unit]!;
    if (n >= 1 && Number.isInteger(n * 10)) return `${n}${unit}`;
  }
  return `${bytes}B`;
}
