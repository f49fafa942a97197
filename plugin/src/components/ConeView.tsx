/**
 * Draws prepared forecast cones as small multiples, one framed SVG per instance and metric:
 * y ticks in the metric's unit, time ticks from the start of the history to the longest horizon
 * ("−24h" … "now" … "+8h"), nested percentile bands (outermost first), p50, history, the
 * profile's named thresholds and the predicted breach with its time. A legend above the charts
 * says what band, p50 and history are; instances without a forecast get a stated reason.
 */
import React from 'react';
import { type MetricUnit, formatDuration, timeTicks, unitOf, yAxis } from '../prepare/axes';
import type { Cone, ConeSet, Point } from '../prepare/cones';
import { timeAndAge } from '../series';
import { useViewTheme, type ViewTheme } from './theme';

/** The line above the cones: `who` (instance · profile: label text, drawn isolated from its neighbours so a right-to-left name cannot reorder them) and the rest. */
export interface ConeSummary {
  readonly who: string;
  readonly text: string;
}

export interface ConeViewProps {
  readonly set: ConeSet;
  readonly width: number;
  readonly height: number;
  readonly showThresholds: boolean;
  /** Clock time of a unix-ms instant, in the dashboard's time zone. */
  readonly formatTime: (ms: number) => string;
  /** One line above the charts: which server and how bad (the views compose it; it then also says whether the data is stale). */
  readonly summary?: ConeSummary;
}

const MIN_CELL_WIDTH = 320;
const CELL_HEIGHT = 196;
const GAP = 10;
const PAD = { left: 56, right: 12, top: 26, bottom: 24 };
/** Baseline to baseline of two threshold labels (10 px text is ~12 px tall with its stroke): a clear gap, not touching. */
const LABEL_GAP = 13;
const BAND_OPACITY = [0.16, 0.26, 0.4];
const HOUR = 3_600_000;

/** Line and label colours of the warning / critical thresholds (the warning and critical level hues, darkened to read as text). */
function thresholdColours(theme: ViewTheme): { warning: string; critical: string } {
  return theme.isDark ? { warning: '#fdb863', critical: '#ff7b72' } : { warning: '#c05a00', critical: '#b0151b' };
}

function ConeChart({
  cone,
  width,
  showThresholds,
  formatTime,
  withInstance,
}: {
  cone: Cone;
  width: number;
  showThresholds: boolean;
  formatTime: (ms: number) => string;
  withInstance: boolean;
}): React.ReactElement {
  const theme = useViewTheme();
  const unit: MetricUnit = unitOf(cone.metric);
  const th = showThresholds ? cone.thresholds : undefined;
  const colours = thresholdColours(theme);
  const all: Point[] = [...cone.history, ...cone.bands.flatMap((b) => b.polygon), ...cone.p50];
  // the history's start rounded back to a whole hour, so 287 five-minute samples read as −24h
  const first = Math.min(cone.now, ...all.map((p) => p.t));
  const t0 = cone.now - first >= HOUR ? cone.now - Math.ceil((cone.now - first) / HOUR - 1e-9) * HOUR : first;
  const t1 = Math.max(cone.now + 1, ...all.map((p) => p.t));
  const values = all.map((p) => p.v);
  if (th) {
    values.push(th.warning, th.critical);
  }
  const axis = yAxis(values, unit, 5);
  const w = width - PAD.left - PAD.right;
  const h = CELL_HEIGHT - PAD.top - PAD.bottom;
  const x = (t: number): number => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * w;
  const y = (v: number): number => PAD.top + (1 - (v - axis.min) / Math.max(1e-12, axis.max - axis.min)) * h;
  const path = (pts: readonly Point[]): string =>
    pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const nowX = x(cone.now);
  const ticks = timeTicks(t0, cone.now, t1, Math.floor((nowX - PAD.left) / 40), Math.floor((PAD.left + w - nowX) / 34));
  const clipId = `clip-${cone.instance}-${cone.metric}`.replace(/[^A-Za-z0-9_-]/g, '_');
  // threshold labels sit above their lines, below where that would leave the plot or meet the other label
  const labelY = (line: number, avoid?: number): number => {
    const above = line - 3;
    const below = line + 11;
    const fits = (v: number): boolean =>
      v >= PAD.top + 9 && v <= PAD.top + h - 2 && (avoid === undefined || Math.abs(v - avoid) >= LABEL_GAP);
    // neither fits (the lines nearly touch): one label height under the other label
    return fits(above) ? above : fits(below) ? below : avoid !== undefined ? avoid + LABEL_GAP : above;
  };
  const criticalLabelY = th ? labelY(y(th.critical)) : 0;
  const warningLabelY = th ? labelY(y(th.warning), criticalLabelY) : 0;
  // a crossing at the origin is a metric already at or over critical: "in 0s" would read as a countdown
  const breachLabel = !cone.breach
    ? ''
    : cone.breach.seconds <= 0
      ? 'at critical now'
      : `critical in ${formatDuration(cone.breach.seconds)} (${formatTime(cone.breach.t)})`;
  const breachX = cone.breach ? x(cone.breach.t) : 0;
  const breachTextWidth = breachLabel.length * 6.2;
  // above the critical line where it fits under the title, else below it (and below the warning
  // line if that runs close under it): never across a threshold line or the dot
  const criticalY = th ? y(th.critical) : 0;
  const warningY = th ? y(th.warning) : 0;
  const below = warningY > criticalY && warningY - 4 <= criticalY + 17 ? warningY + 15 : criticalY + 17;
  const breachLabelY = criticalY - 9 >= PAD.top + 10 ? criticalY - 9 : Math.min(PAD.top + h - 3, below);
  return (
    <svg
      data-testid="cone"
      data-instance={cone.instance}
      data-metric={cone.metric}
      width={width}
      height={CELL_HEIGHT}
      role="img"
      aria-label={`${cone.instance} ${cone.metric} forecast`}
      style={{
        display: 'block',
        background: theme.background,
        border: `1px solid ${theme.border}`,
        borderRadius: 3,
        boxSizing: 'border-box',
        fontFamily: theme.fontFamily,
      }}
    >
      <text data-testid="cone-title" x={8} y={16} fontSize={12} fill={theme.text}>
        {/* FSI … PDI isolate the name (the text equivalent of <bdi>): override characters in it cannot reorder the metric */}
        <tspan fontWeight={600}>{withInstance ? `\u2068${cone.instance}\u2069 · ${cone.metric}` : cone.metric}</tspan>
        <tspan fill={theme.textWeak}>{unit.label ? `  ${unit.label}` : ''}</tspan>
      </text>
      <defs>
        <clipPath id={clipId}>
          <rect x={PAD.left} y={PAD.top} width={w} height={h} />
        </clipPath>
      </defs>
      <g data-testid="y-axis">
        {axis.ticks.map((v) => (
          <g key={v}>
            <line
              x1={PAD.left}
              x2={PAD.left + w}
              y1={y(v)}
              y2={y(v)}
              stroke={theme.border}
              strokeOpacity={0.6}
              strokeWidth={1}
            />
            <text
              data-testid="y-tick"
              x={PAD.left - 5}
              y={y(v) + 3.5}
              fontSize={10}
              textAnchor="end"
              fill={theme.textWeak}
            >
              {unit.format(v)}
            </text>
          </g>
        ))}
      </g>
      <g data-testid="x-axis">
        {ticks.map((k) => (
          <g key={k.t}>
            <line x1={x(k.t)} x2={x(k.t)} y1={PAD.top + h} y2={PAD.top + h + 4} stroke={theme.textWeak} />
            <text
              data-testid="x-tick"
              x={x(k.t)}
              y={PAD.top + h + 15}
              fontSize={10}
              textAnchor="middle"
              fill={k.label === 'now' ? theme.text : theme.textWeak}
              fontWeight={k.label === 'now' ? 600 : 400}
            >
              {k.label}
            </text>
          </g>
        ))}
      </g>
      <g clipPath={`url(#${clipId})`}>
        {cone.bands.map((b, i) => (
          <path
            key={`${b.lower}-${b.upper}`}
            data-testid="band"
            data-lower={b.lower}
            data-upper={b.upper}
            d={`${path(b.polygon)}Z`}
            fill={theme.accent}
            fillOpacity={BAND_OPACITY[Math.min(i, BAND_OPACITY.length - 1)]}
            stroke="none"
          />
        ))}
        {cone.history.length > 0 && (
          <path data-testid="history" d={path(cone.history)} fill="none" stroke={theme.text} strokeWidth={1.1} />
        )}
        {cone.p50.length > 0 && (
          <path data-testid="p50" d={path(cone.p50)} fill="none" stroke={theme.accent} strokeWidth={2} />
        )}
      </g>
      {th && (
        <g data-testid="thresholds">
          <line
            data-testid="threshold-warning"
            x1={PAD.left}
            x2={PAD.left + w}
            y1={y(th.warning)}
            y2={y(th.warning)}
            stroke={colours.warning}
            strokeDasharray="5 3"
            strokeWidth={1.2}
          />
          <text
            data-testid="threshold-label"
            x={PAD.left + 4}
            y={warningLabelY}
            fontSize={10}
            fill={colours.warning}
            stroke={theme.background}
            strokeWidth={3}
            paintOrder="stroke"
          >
            {`warning ${unit.format(th.warning)}`}
          </text>
          <line
            data-testid="threshold-critical"
            x1={PAD.left}
            x2={PAD.left + w}
            y1={y(th.critical)}
            y2={y(th.critical)}
            stroke={colours.critical}
            strokeDasharray="5 3"
            strokeWidth={1.2}
          />
          <text
            data-testid="threshold-label"
            x={PAD.left + 4}
            y={criticalLabelY}
            fontSize={10}
            fill={colours.critical}
            stroke={theme.background}
            strokeWidth={3}
            paintOrder="stroke"
          >
            {`critical ${unit.format(th.critical)}`}
          </text>
        </g>
      )}
      <line
        data-testid="cone-now"
        x1={nowX}
        x2={nowX}
        y1={PAD.top}
        y2={PAD.top + h}
        stroke={theme.text}
        strokeWidth={1}
        strokeDasharray="2 2"
      />
      {cone.breach && th && (
        <g data-testid="breach">
          <line
            x1={breachX}
            x2={breachX}
            y1={y(th.critical)}
            y2={PAD.top + h}
            stroke={colours.critical}
            strokeWidth={1}
            strokeDasharray="2 2"
          />
          <circle
            cx={breachX}
            cy={y(th.critical)}
            r={4.5}
            fill={colours.critical}
            stroke={theme.background}
            strokeWidth={1}
          />
          <text
            data-testid="breach-label"
            x={Math.max(PAD.left + 2, Math.min(breachX - breachTextWidth / 2, PAD.left + w - breachTextWidth))}
            y={breachLabelY}
            fontSize={11}
            fontWeight={600}
            fill={colours.critical}
            stroke={theme.background}
            strokeWidth={3}
            paintOrder="stroke"
          >
            {breachLabel}
          </text>
        </g>
      )}
    </svg>
  );
}

/** What band, p50, history, thresholds and the breach mark look like. */
export function ConeLegend({ set, showThresholds }: { set: ConeSet; showThresholds: boolean }): React.ReactElement {
  const theme = useViewTheme();
  const colours = thresholdColours(theme);
  const pairs = [
    ...new Map(set.cones.flatMap((c) => c.bands.map((b) => [`${b.lower}-${b.upper}`, b] as const))).values(),
  ].sort((a, b) => a.lower - b.lower);
  const item = (key: string, swatch: React.ReactNode, label: string): React.ReactElement => (
    <span
      key={key}
      data-testid="cone-legend-item"
      style={{ display: 'inline-flex', alignItems: 'center', gap: 4, whiteSpace: 'nowrap' }}
    >
      <svg width={22} height={12} aria-hidden="true">
        {swatch}
      </svg>
      <span>{label}</span>
    </span>
  );
  return (
    <div
      data-testid="cone-legend"
      style={{
        display: 'flex',
        flexWrap: 'wrap',
        gap: '2px 14px',
        fontSize: 11,
        color: theme.text,
        padding: '2px 0 6px',
      }}
    >
      {pairs.map((b, i) =>
        item(
          `band-${b.lower}`,
          <rect
            x={0}
            y={1}
            width={22}
            height={10}
            fill={theme.accent}
            fillOpacity={BAND_OPACITY[Math.min(i, BAND_OPACITY.length - 1)]}
          />,
          `p${b.lower}–p${b.upper} band`
        )
      )}
      {item('p50', <line x1={0} x2={22} y1={6} y2={6} stroke={theme.accent} strokeWidth={2} />, 'p50 forecast')}
      {item('history', <line x1={0} x2={22} y1={6} y2={6} stroke={theme.text} strokeWidth={1.1} />, 'history')}
      {showThresholds &&
        item(
          'thresholds',
          <>
            <line x1={0} x2={22} y1={3} y2={3} stroke={colours.warning} strokeDasharray="5 3" />
            <line x1={0} x2={22} y1={9} y2={9} stroke={colours.critical} strokeDasharray="5 3" />
          </>,
          'warning / critical threshold'
        )}
      {showThresholds &&
        item('breach', <circle cx={11} cy={6} r={4.5} fill={colours.critical} />, 'predicted critical crossing (p50)')}
    </div>
  );
}

const REASONS = {
  'too-little-history':
    'too little history for a forecast yet: its risk is scored on current values only until enough history is in (default 19 h of the 24 h window)',
  'not-in-data': 'no forecast or history for it in the data',
  unknown:
    'unknown: its data has been missing or bad for longer than the sidecar keeps stale forecasts, so there is no current forecast (and it is not healthy either)',
};

export function ConeView({
  set,
  width,
  height,
  showThresholds,
  formatTime,
  summary,
}: ConeViewProps): React.ReactElement {
  const theme = useViewTheme();
  const perRow = Math.max(1, Math.floor((width + GAP) / (MIN_CELL_WIDTH + GAP)));
  const cellWidth = Math.floor((width - GAP * (perRow - 1)) / perRow);
  const withInstance = new Set(set.cones.map((c) => c.instance)).size > 1;
  return (
    <div
      data-testid="cones"
      style={{ width, height, overflowY: 'auto', color: theme.text, fontFamily: theme.fontFamily }}
    >
      {summary && (
        <div data-testid="cone-summary" style={{ fontSize: 13, fontWeight: 600, padding: '2px 0 2px' }}>
          <bdi>{summary.who}</bdi> {summary.text}
        </div>
      )}
      {/* without a summary (a cones-only panel, several servers) each stale server gets its own line */}
      {!summary &&
        (set.stale ?? []).map((st) => (
          <div
            key={st.instance}
            data-testid="cone-stale"
            data-instance={st.instance}
            style={{ fontSize: 13, fontWeight: 600, padding: '2px 0' }}
          >
            <bdi>{st.instance}</bdi>
            {`: stale: ${st.dataAt !== null ? `last data at ${timeAndAge(st.dataAt, st.at, formatTime)}` : 'no good data in the time range'}; these are its last good forecasts`}
          </div>
        ))}
      {set.cones.length > 0 && <ConeLegend set={set} showThresholds={showThresholds} />}
      {set.missing.map((m) => (
        <div
          key={m.instance}
          data-testid="cone-state"
          data-instance={m.instance}
          data-reason={m.reason}
          style={{
            fontSize: 13,
            padding: '8px 10px',
            margin: '4px 0',
            border: `1px dashed ${theme.border}`,
            borderRadius: 3,
            color: theme.text,
            background: theme.backgroundRaised,
          }}
        >
          <bdi>{m.instance}</bdi>
          {`: ${REASONS[m.reason]}.`}
        </div>
      ))}
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: GAP, alignContent: 'flex-start' }}>
        {set.cones.map((c) => (
          <ConeChart
            key={`${c.instance}/${c.metric}`}
            cone={c}
            width={cellWidth}
            showThresholds={showThresholds}
            formatTime={formatTime}
            withInstance={withInstance}
          />
        ))}
      </div>
    </div>
  );
}
