/**
 * The seven severity levels (ARCHITECTURE.md "Severity levels"): the sidecar's own table and
 * score → level mapping, bundled at build time, plus the panel's default colours.
 *
 * The palette is ColorBrewer's RdYlBu, reversed: it stays distinguishable for the common
 * colour-vision deficiencies because neighbouring levels also differ in lightness, and it reads
 * on both light and dark backgrounds (no level is pure white or black).
 */
export { LEVELS, levelOf } from '../../sidecar/src/risk/levels';

export const DEFAULT_LEVEL_COLORS: readonly string[] = ['#4575b4', '#91bfdb', '#e0f3f8', '#fee090', '#fc8d59', '#d73027', '#67001f'];
