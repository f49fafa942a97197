/**
 * The seven severity levels: the contract package's table and score → level mapping (one source
 * the sidecar shares, bundled at build time), plus the panel's default colours.
 *
 * The palette is sequential: risk rises in warmth, saturation and darkness, from a quiet light
 * grey (healthy) through yellow and orange to dark red (imminent failure), after ColorBrewer's
 * YlOrRd. Relative luminance falls strictly with the level (0.85 … 0.03), so the order reads
 * without hue: in greyscale and with the common colour-vision deficiencies. "No data" is never a
 * colour of this ramp: the views draw it as a hatched, unfilled cell.
 */
export { LEVELS, levelOf } from '@foresight/contract';

export const DEFAULT_LEVEL_COLORS: readonly string[] = [
  '#eceef1',
  '#fbe38c',
  '#fec44f',
  '#fe9929',
  '#ec5a1f',
  '#cb181d',
  '#67000d',
];

/**
 * Healthy on a dark theme: a dim grey, so healthy stays the quiet colour there too (a light grey
 * would be the loudest cell on a dark background). Used only while healthy keeps its default.
 */
export const DARK_HEALTHY = '#3d424b';

/** The level colours to draw with: the configured ones, with the default healthy dimmed on dark themes. */
export function levelColorsFor(configured: readonly string[] | undefined, isDark: boolean): readonly string[] {
  const colors = configured?.length === 7 ? configured : DEFAULT_LEVEL_COLORS;
  return isDark && colors[0]?.toLowerCase() === DEFAULT_LEVEL_COLORS[0] ? [DARK_HEALTHY, ...colors.slice(1)] : colors;
}

/** WCAG relative luminance of a #rrggbb colour (0 black … 1 white). */
export function relativeLuminance(hex: string): number {
  const n = parseInt(hex.replace('#', ''), 16);
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
}

/** Text colour that reads on a level's colour (dark on the light levels, white on the dark ones). */
export function textOn(hex: string): string {
  return relativeLuminance(hex) > 0.3 ? '#1f1f1f' : '#ffffff';
}
