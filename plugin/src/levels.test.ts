import { DARK_HEALTHY, DEFAULT_LEVEL_COLORS, levelColorsFor, relativeLuminance } from './levels';

describe('level colours', () => {
  test('when the theme is dark and healthy keeps its default, then healthy is a dim grey; a configured healthy is kept', () => {
    expect(levelColorsFor(undefined, false)).toEqual(DEFAULT_LEVEL_COLORS);
    expect(levelColorsFor([...DEFAULT_LEVEL_COLORS], true)).toEqual([DARK_HEALTHY, ...DEFAULT_LEVEL_COLORS.slice(1)]);
    const mine = ['#00ff00', ...DEFAULT_LEVEL_COLORS.slice(1)];
    expect(levelColorsFor(mine, true)).toEqual(mine);
  });

  test('when the default palette is used on a light theme, then relative luminance falls strictly with the level', () => {
    const lum = DEFAULT_LEVEL_COLORS.map(relativeLuminance);
    expect(lum.map((l) => Math.round(l * 1000) / 1000)).toEqual([0.853, 0.773, 0.611, 0.44, 0.252, 0.134, 0.029]);
  });
});
