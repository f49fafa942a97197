/**
 * Draws a prepared heatmap: one row per instance, past cells left of the "now" line, predicted
 * cells right of it (hatched). Only the rows in view are in the DOM, so 1,000 instances scroll
 * as smoothly as 20. Every label is React text, never HTML.
 */
import React, { useState } from 'react';
import { type HeatmapModel, type HeatmapRow, cellTooltip } from '../prepare/heatmap';

export interface HeatmapViewProps {
  readonly model: HeatmapModel;
  readonly colors: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly dark: boolean;
  readonly onSelectInstance?: (instance: string) => void;
}

const ROW_HEIGHT = 20;
const HEADER = 22;
const LABEL_WIDTH = 190;
const OVERSCAN = 8;
/** Share of the grid's width the predicted columns get (they are few; the past has many). */
const FUTURE_SHARE = 0.25;

export function HeatmapView({ model, colors, width, height, dark, onSelectInstance }: HeatmapViewProps): React.ReactElement {
  const [scrollTop, setScrollTop] = useState(0);
  const [tip, setTip] = useState<{ x: number; y: number; lines: string[] } | undefined>();
  const n = model.columns.length;
  const gridWidth = Math.max(50, width - LABEL_WIDTH - 4);
  const futureCount = n - model.nowIndex;
  const futureWidth = futureCount > 0 ? gridWidth * (model.nowIndex > 0 ? FUTURE_SHARE : 1) : 0;
  const pastCell = model.nowIndex > 0 ? (gridWidth - futureWidth) / model.nowIndex : 0;
  const futureCell = futureCount > 0 ? futureWidth / futureCount : 0;
  const bodyHeight = Math.max(ROW_HEIGHT, height - HEADER);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(model.rows.length, Math.ceil((scrollTop + bodyHeight) / ROW_HEIGHT) + OVERSCAN);
  const text = dark ? '#d8d9da' : '#24292e';
  const nowX = LABEL_WIDTH + model.nowIndex * pastCell;

  const row = (r: HeatmapRow, index: number): React.ReactElement => (
    <div
      key={r.instance}
      data-testid="heatmap-row"
      data-instance={r.instance}
      role="button"
      tabIndex={0}
      title={`Show ${r.instance} in the forecast cones`}
      onClick={() => onSelectInstance?.(r.instance)}
      onKeyDown={(e) => (e.key === 'Enter' ? onSelectInstance?.(r.instance) : undefined)}
      style={{ position: 'absolute', top: index * ROW_HEIGHT, left: 0, height: ROW_HEIGHT, width: '100%', display: 'flex', cursor: onSelectInstance ? 'pointer' : 'default' }}
    >
      <div style={{ width: LABEL_WIDTH, boxSizing: 'border-box', flex: 'none', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis', fontSize: 12, lineHeight: `${ROW_HEIGHT}px`, paddingRight: 6, color: text }}>
        <span data-testid="row-instance">{r.instance}</span> <span data-testid="row-profile" style={{ opacity: 0.65, fontSize: 11 }}>{r.profile}</span>
      </div>
      {r.cells.map((c, k) => {
        const predicted = k >= model.nowIndex;
        return (
          <div
            key={k}
            data-testid="heatmap-cell"
            data-column={k}
            data-level={c ? c.level : ''}
            data-predicted={predicted ? 'true' : 'false'}
            onMouseEnter={(e) => setTip({ x: e.clientX, y: e.clientY, lines: cellTooltip(model, r, k) })}
            onMouseLeave={() => setTip(undefined)}
            style={{
              width: predicted ? futureCell : pastCell,
              flex: 'none',
              height: ROW_HEIGHT - 2,
              marginTop: 1,
              backgroundColor: c ? colors[c.level] : 'transparent',
              backgroundImage: predicted && c ? 'repeating-linear-gradient(135deg, rgba(255,255,255,0.35) 0 2px, transparent 2px 6px)' : undefined,
              opacity: predicted ? 0.9 : 1,
            }}
          />
        );
      })}
    </div>
  );

  return (
    <div data-testid="heatmap" data-rows={model.rows.length} style={{ position: 'relative', width, height, color: text, fontFamily: 'Inter, Helvetica, Arial, sans-serif' }}>
      <div style={{ height: HEADER, position: 'relative', fontSize: 11 }}>
        <span style={{ position: 'absolute', left: LABEL_WIDTH, top: 4, maxWidth: Math.max(0, nowX - LABEL_WIDTH - 4), overflow: 'hidden', whiteSpace: 'nowrap' }}>past</span>
        {futureWidth > 0 && (
          <span data-testid="predicted-label" style={{ position: 'absolute', left: nowX + 4, top: 4, whiteSpace: 'nowrap' }}>
            predicted →
          </span>
        )}
      </div>
      <div data-testid="heatmap-scroll" onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} style={{ position: 'relative', height: bodyHeight, overflowY: 'auto', overflowX: 'hidden' }}>
        <div style={{ position: 'relative', height: model.rows.length * ROW_HEIGHT }}>{model.rows.slice(first, last).map((r, i) => row(r, first + i))}</div>
      </div>
      <div data-testid="now-line" title="now" style={{ position: 'absolute', left: nowX - 1, top: HEADER - 4, width: 2, height: Math.min(bodyHeight, model.rows.length * ROW_HEIGHT) + 4, background: text, pointerEvents: 'none' }} />
      {tip && (
        <div data-testid="tooltip" style={{ position: 'fixed', left: tip.x + 12, top: tip.y + 12, background: dark ? '#22252b' : '#fff', color: text, border: '1px solid #888', borderRadius: 2, padding: '4px 8px', fontSize: 12, pointerEvents: 'none', zIndex: 1000, whiteSpace: 'nowrap' }}>
          {tip.lines.map((l, i) => (
            <div key={i}>{l}</div>
          ))}
        </div>
      )}
    </div>
  );
}
