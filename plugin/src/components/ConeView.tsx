/**
 * Draws prepared forecast cones as small multiples, one SVG per instance and metric: history,
 * nested percentile bands (outermost first), p50, thresholds, a breach marker and "now".
 */
import React from 'react';
import type { Cone, Point } from '../prepare/cones';

export interface ConeViewProps {
  readonly cones: readonly Cone[];
  readonly width: number;
  readonly height: number;
  readonly dark: boolean;
  readonly showThresholds: boolean;
}

const MIN_CELL_WIDTH = 300;
const CELL_HEIGHT = 170;
const PAD = { left: 44, right: 8, top: 18, bottom: 18 };
const BAND_OPACITY = [0.18, 0.28, 0.42];

export function formatDuration(seconds: number): string {
  if (seconds < 60) {return `${Math.round(seconds)}s`;}
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

function ConeChart({ cone, width, dark, showThresholds }: { cone: Cone; width: number; dark: boolean; showThresholds: boolean }): React.ReactElement {
  const text = dark ? '#d8d9da' : '#24292e';
  const accent = dark ? '#6e9fff' : '#1f60c4';
  const all: Point[] = [...cone.history, ...cone.bands.flatMap((b) => b.polygon), ...cone.p50];
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const values = all.map((p) => p.v);
  if (showThresholds && cone.thresholds) {values.push(cone.thresholds.warning, cone.thresholds.critical);}
  let v0 = Math.min(...values);
  let v1 = Math.max(...values);
  if (v1 - v0 < 1e-9) {
    v0 -= 1;
    v1 += 1;
  }
  const w = width - PAD.left - PAD.right;
  const h = CELL_HEIGHT - PAD.top - PAD.bottom;
  const x = (t: number): number => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * w;
  const y = (v: number): number => PAD.top + (1 - (v - v0) / (v1 - v0)) * h;
  const path = (pts: readonly Point[]): string => pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(0)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(Math.abs(v) < 10 ? 1 : 0));
  return (
    <svg data-testid="cone" data-instance={cone.instance} data-metric={cone.metric} width={width} height={CELL_HEIGHT} role="img" aria-label={`${cone.instance} ${cone.metric} forecast`}>
      <text x={PAD.left} y={12} fontSize={12} fill={text}>
        {`${cone.instance} · ${cone.metric}`}
      </text>
      <text x={4} y={y(v1) + 4} fontSize={10} fill={text}>
        {fmt(v1)}
      </text>
      <text x={4} y={y(v0)} fontSize={10} fill={text}>
        {fmt(v0)}
      </text>
      {cone.bands.map((b, i) => (
        <path key={`${b.lower}-${b.upper}`} data-testid="band" data-lower={b.lower} data-upper={b.upper} d={`${path(b.polygon)}Z`} fill={accent} fillOpacity={BAND_OPACITY[Math.min(i, BAND_OPACITY.length - 1)]} stroke="none" />
      ))}
      {cone.history.length > 0 && <path data-testid="history" d={path(cone.history)} fill="none" stroke={text} strokeWidth={1.2} />}
      {cone.p50.length > 0 && <path data-testid="p50" d={path(cone.p50)} fill="none" stroke={accent} strokeWidth={2} />}
      {showThresholds && cone.thresholds && (
        <g data-testid="thresholds">
          <line x1={PAD.left} x2={PAD.left + w} y1={y(cone.thresholds.warning)} y2={y(cone.thresholds.warning)} stroke="#fc8d59" strokeDasharray="4 3" />
          <line x1={PAD.left} x2={PAD.left + w} y1={y(cone.thresholds.critical)} y2={y(cone.thresholds.critical)} stroke="#d73027" strokeDasharray="4 3" />
        </g>
      )}
      <line data-testid="cone-now" x1={x(cone.now)} x2={x(cone.now)} y1={PAD.top} y2={PAD.top + h} stroke={text} strokeWidth={1} strokeDasharray="2 2" />
      <text x={x(cone.now) + 3} y={PAD.top + h + 12} fontSize={10} fill={text}>
        now
      </text>
      {cone.breach && showThresholds && cone.thresholds && (
        <g data-testid="breach">
          <circle cx={x(cone.breach.t)} cy={y(cone.thresholds.critical)} r={4} fill="#d73027" />
          <text x={Math.min(x(cone.breach.t) + 6, PAD.left + w - 90)} y={y(cone.thresholds.critical) - 6} fontSize={11} fill="#d73027">
            {`breach in ${formatDuration(cone.breach.seconds)}`}
          </text>
        </g>
      )}
    </svg>
  );
}

export function ConeView({ cones, width, height, dark, showThresholds }: ConeViewProps): React.ReactElement {
  const perRow = Math.max(1, Math.floor(width / MIN_CELL_WIDTH));
  const cellWidth = Math.floor(width / perRow);
  return (
    <div data-testid="cones" style={{ width, height, overflowY: 'auto', display: 'flex', flexWrap: 'wrap', alignContent: 'flex-start' }}>
      {cones.map((c) => (
        <ConeChart key={`${c.instance}/${c.metric}`} cone={c} width={cellWidth} dark={dark} showThresholds={showThresholds} />
      ))}
    </div>
  );
}
