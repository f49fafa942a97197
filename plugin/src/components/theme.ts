/**
 * The colours and fonts the views draw with. Inside Grafana they come from Grafana's theme
 * (`RiskPanel` derives them with `useStyles2`, so they follow light/dark and custom themes);
 * outside Grafana (the sidecar's preview page) from the preview's own theme below.
 */
import { createContext, useContext } from 'react';
import type { GrafanaTheme2 } from '@grafana/data';

export interface ViewTheme {
  readonly isDark: boolean;
  readonly text: string;
  readonly textWeak: string;
  readonly background: string;
  /** Background of boxes that stand out a little (chart frames, legends). */
  readonly backgroundRaised: string;
  readonly border: string;
  /** Lines and fills of the forecast (band, p50). */
  readonly accent: string;
  /** The selected row's outline and tint. */
  readonly selected: string;
  readonly selectedTint: string;
  /** The source-down banner. */
  readonly errorText: string;
  readonly errorBackground: string;
  readonly fontFamily: string;
  readonly fontSize: number;
}

/** The preview page's theme (light). */
export const PREVIEW_THEME: ViewTheme = {
  isDark: false,
  text: '#24292e',
  textWeak: '#5b6470',
  background: '#ffffff',
  backgroundRaised: '#f6f7f9',
  border: '#c9ced6',
  accent: '#1f60c4',
  selected: '#1f60c4',
  selectedTint: 'rgba(31, 96, 196, 0.12)',
  errorText: '#8a1111',
  errorBackground: '#fdecea',
  fontFamily: 'Inter, Helvetica, Arial, sans-serif',
  fontSize: 12,
};

/** Grafana's theme → the views' colours (passed to `useStyles2`, which memoises it per theme). */
export function viewThemeFromGrafana(theme: GrafanaTheme2): ViewTheme {
  return {
    isDark: theme.isDark,
    text: theme.colors.text.primary,
    textWeak: theme.colors.text.secondary,
    background: theme.colors.background.primary,
    backgroundRaised: theme.colors.background.secondary,
    border: theme.colors.border.medium,
    accent: theme.colors.primary.main,
    selected: theme.colors.primary.border,
    selectedTint: theme.colors.action.selected,
    errorText: theme.colors.error.text,
    errorBackground: theme.colors.error.transparent,
    fontFamily: theme.typography.fontFamily,
    fontSize: 12,
  };
}

export const ViewThemeContext = createContext<ViewTheme>(PREVIEW_THEME);

export function useViewTheme(): ViewTheme {
  return useContext(ViewThemeContext);
}
