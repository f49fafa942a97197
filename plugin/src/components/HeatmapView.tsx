/**
 * Draws a prepared heatmap: a legend of the seven levels, a time axis (clock times over the
 * past, "now", the horizons over the predicted columns, each column as wide as the time it
 * covers), and one row per instance. Only the rows in view are in the DOM, so 1,000 instances
 * scroll as smoothly as 20. Every label is React text, never HTML.
 */
import React, { useLayoutEffect, useRef, useState } from 'react';
import { LEVELS } from '../levels';
import { type HeatmapModel, type HeatmapRow, cellTooltip, pastTicks, stateText, xOf } from '../prepare/heatmap';
import { useViewTheme } from './theme';

export interface HeatmapViewProps {
  readonly model: HeatmapModel;
  readonly colors: readonly string[];
  readonly width: number;
  readonly height: number;
  /** The row drawn highlighted (the instance the cones show). */
  readonly selected?: string;
  readonly onSelectInstance?: (instance: string) => void;
  /** Clock time (or, withDate, date and time) of a unix-ms instant, in the dashboard's time zone. */
  readonly formatTime: (ms: number, withDate?: boolean) => string;
}

const ROW_HEIGHT = 20;
const LEGEND = 24;
const AXIS = 34;
const HEADER = LEGEND + AXIS;
/** Height of the legend and time axis above the rows. */
export const HEATMAP_HEADER = HEADER;
const LABEL_WIDTH = 190;
const OVERSCAN = 8;
/** Widest the tooltip grows (px); narrower in a narrow panel. */
const TOOLTIP_MAX_WIDTH = 420;
/** "No data": hatched and unfilled, so it never reads as a level (not even healthy). */
export const NO_DATA_PATTERN = 'repeating-linear-gradient(135deg, rgba(128,128,128,0.45) 0 1px, transparent 1px 5px)';

/**
 * "Stale": the last good level's colour under light diagonal stripes, so the level still reads but
 * the cell plainly is not a fresh measurement (the opposite slant and a fill tell it from "no data").
 */
export const STALE_PATTERN = 'repeating-linear-gradient(45deg, rgba(255,255,255,0.62) 0 2px, transparent 2px 6px)';

/** Labels that would overlap a label already placed (left to right, by priority) are dropped. */
function placeLabels<T extends { x: number; text: string; keep?: boolean }>(
  items: readonly T[],
  charWidth: number,
  gap = 6
): T[] {
  const placed: Array<T & { lo: number; hi: number }> = [];
  const order = [...items].sort((a, b) => Number(b.keep ?? false) - Number(a.keep ?? false));
  for (const it of order) {
    const w = it.text.length * charWidth;
    const lo = it.x - w / 2;
    const hi = it.x + w / 2;
    if (placed.every((p) => hi + gap <= p.lo || lo >= p.hi + gap)) {
      placed.push({ ...it, lo, hi });
    }
  }
  return placed.sort((a, b) => a.x - b.x);
}

/** The legend; "stale" is explained when a row is stale, and "no data" also names "unknown" when a row is unknown. */
export function Legend({
  colors,
  stale = false,
  unknown = false,
}: {
  colors: readonly string[];
  stale?: boolean;
  unknown?: boolean;
}): React.ReactElement {
  const theme = useViewTheme();
  return (
    <div
      data-testid="legend"
      style={{
        display: 'flex',
        flexWrap: 'wrap',
        alignItems: 'center',
        gap: '2px 10px',
        height: LEGEND,
        overflow: 'hidden',
        fontSize: 11,
        color: theme.text,
      }}
    >
      {LEVELS.map((l, i) => (
        <span
          key={l.name}
          data-testid="legend-item"
          data-level={i}
          style={{ display: 'inline-flex', alignItems: 'center', gap: 4, whiteSpace: 'nowrap' }}
        >
          <span
            data-testid="legend-swatch"
            style={{
              width: 14,
              height: 12,
              background: colors[i],
              border: `1px solid ${theme.border}`,
              display: 'inline-block',
            }}
          />
          <span data-testid="legend-name">{l.display}</span>
        </span>
      ))}
      <span
        data-testid="legend-item"
        data-level="none"
        style={{ display: 'inline-flex', alignItems: 'center', gap: 4, whiteSpace: 'nowrap' }}
      >
        <span
          style={{
            width: 14,
            height: 12,
            backgroundImage: NO_DATA_PATTERN,
            border: `1px solid ${theme.border}`,
            display: 'inline-block',
          }}
        />
        <span data-testid="legend-name">{unknown ? 'no data / unknown' : 'no data'}</span>
      </span>
      {stale && (
        <span
          data-testid="legend-item"
          data-level="stale"
          title="data missing or bad: the last good risk and forecasts, carried over"
          style={{ display: 'inline-flex', alignItems: 'center', gap: 4, whiteSpace: 'nowrap' }}
        >
          <span
            style={{
              width: 14,
              height: 12,
              backgroundColor: colors[4],
              backgroundImage: STALE_PATTERN,
              border: `1px solid ${theme.border}`,
              display: 'inline-block',
            }}
          />
          <span data-testid="legend-name">stale (last good data)</span>
        </span>
      )}
    </div>
  );
}

interface Tip {
  readonly x: number;
  readonly y: number;
  /** The hovered row's instance: the first line starts with it, and it is isolated there. */
  readonly instance: string;
  readonly lines: readonly string[];
}

export function HeatmapView({
  model,
  colors,
  width,
  height,
  selected,
  onSelectInstance,
  formatTime,
}: HeatmapViewProps): React.ReactElement {
  const theme = useViewTheme();
  const [scrollTop, setScrollTop] = useState(0);
  const [tip, setTip] = useState<Tip | undefined>();
  const [tipPos, setTipPos] = useState<{ left: number; top: number } | undefined>();
  const rootRef = useRef<HTMLDivElement>(null);
  const tipRef = useRef<HTMLDivElement>(null);
  const gridWidth = Math.max(50, width - LABEL_WIDTH - 4);
  const px = (t: number): number => Math.round(xOf(model, t) * gridWidth);
  const nowX = px(model.now);
  const bodyHeight = Math.max(ROW_HEIGHT, Math.min(height - HEADER, model.rows.length * ROW_HEIGHT));
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(model.rows.length, Math.ceil((scrollTop + bodyHeight) / ROW_HEIGHT) + OVERSCAN);
  const hasFuture = model.nowIndex < model.columns.length;

  // the tooltip stays inside the panel: flipped left of / above the pointer when it would overflow
  useLayoutEffect(() => {
    const root = rootRef.current;
    const box = tipRef.current;
    if (!tip || !root || !box) {
      setTipPos(undefined);
      return;
    }
    const r = root.getBoundingClientRect();
    const w = box.offsetWidth;
    const h = box.offsetHeight;
    const right = Math.min(r.right, window.innerWidth);
    const bottom = Math.min(r.bottom, window.innerHeight);
    let left = tip.x + 12;
    if (left + w > right) {
      left = tip.x - 12 - w;
    }
    let top = tip.y + 12;
    if (top + h > bottom) {
      top = tip.y - 12 - h;
    }
    left = Math.max(Math.max(r.left, 0), Math.min(left, right - w));
    top = Math.max(Math.max(r.top, 0), Math.min(top, bottom - h));
    setTipPos({ left: left - r.left, top: top - r.top });
  }, [tip]);

  // axis labels: clock times over the past, "now", the horizons at their columns' ends
  const ticks = pastTicks(model.pastStart, model.now, Math.max(1, Math.floor(nowX / 60))).map((t) => ({
    x: px(t),
    text: formatTime(t),
    kind: 'past' as const,
  }));
  const horizons = model.columns.slice(model.nowIndex).map((c) => ({
    x: px(c.end),
    text: c.horizon ?? '',
    kind: 'horizon' as const,
    keep: c === model.columns[model.columns.length - 1],
  }));
  // a generous character width: fonts fall back (no Inter outside Grafana) and "now" is bold
  const CHAR = 7.2;
  // labels stay inside the grid: the last horizon's label ends at the right edge
  const inside = <T extends { x: number; text: string }>(l: T): T => ({
    ...l,
    x: Math.max((l.text.length * CHAR) / 2, Math.min(gridWidth - (l.text.length * CHAR) / 2, l.x)),
  });
  const labels = placeLabels(
    [...ticks, { x: nowX, text: 'now', kind: 'now' as const, keep: true }, ...horizons].map(inside),
    CHAR
  );

  const row = (r: HeatmapRow, index: number): React.ReactElement => {
    const isSelected = r.instance === selected;
    const marked = stateText(r, model.now, (ms) => formatTime(ms, true));
    const unknownLeft =
      r.state === 'unknown' ? px(model.columns[Math.min(r.staleFrom, model.nowIndex)]?.start ?? model.now) : 0;
    return (
      <div
        key={r.instance}
        data-testid="heatmap-row"
        data-instance={r.instance}
        data-selected={isSelected ? 'true' : 'false'}
        data-state={r.state}
        role="button"
        tabIndex={0}
        aria-pressed={isSelected}
        title={`Show ${r.instance} in the forecast cones`}
        onClick={() => onSelectInstance?.(r.instance)}
        onKeyDown={(e) => (e.key === 'Enter' ? onSelectInstance?.(r.instance) : undefined)}
        style={{
          position: 'absolute',
          top: index * ROW_HEIGHT,
          left: 0,
          height: ROW_HEIGHT,
          width: LABEL_WIDTH + gridWidth,
          boxSizing: 'border-box',
          display: 'flex',
          cursor: onSelectInstance ? 'pointer' : 'default',
          background: isSelected ? theme.selectedTint : undefined,
        }}
      >
        <div
          style={{
            width: LABEL_WIDTH,
            boxSizing: 'border-box',
            flex: 'none',
            display: 'flex',
            alignItems: 'center',
            fontSize: 12,
            lineHeight: `${ROW_HEIGHT}px`,
            padding: '0 6px 0 4px',
            color: theme.text,
            fontWeight: isSelected ? 600 : 400,
          }}
        >
          <span
            style={{
              flex: '1 1 auto',
              minWidth: 0,
              overflow: 'hidden',
              whiteSpace: 'nowrap',
              textOverflow: 'ellipsis',
            }}
          >
            {/* bdi: a name with right-to-left or override characters cannot reorder the profile beside it */}
            <bdi data-testid="row-instance">{r.instance}</bdi>{' '}
            <span data-testid="row-profile" style={{ color: theme.textWeak, fontSize: 11, fontWeight: 400 }}>
              {r.profile}
            </span>
          </span>
          {r.state !== 'fresh' && (
            <span
              data-testid="row-state"
              title={marked}
              style={{
                flex: 'none',
                marginLeft: 4,
                padding: '0 4px',
                fontSize: 10,
                lineHeight: '14px',
                fontWeight: 600,
                borderRadius: 3,
                border: `1px solid ${theme.textWeak}`,
                color: theme.text,
                background: theme.background,
                backgroundImage: r.state === 'stale' ? undefined : NO_DATA_PATTERN,
              }}
            >
              {r.state}
            </span>
          )}
        </div>
        <div
          data-testid="row-grid"
          style={{
            position: 'relative',
            flex: 'none',
            width: gridWidth,
            height: ROW_HEIGHT - 2,
            marginTop: 1,
            backgroundImage: NO_DATA_PATTERN,
          }}
        >
          {r.cells.map((c, k) => {
            if (!c) {
              return null;
            }
            const col = model.columns[k]!;
            const left = px(col.start);
            // predicted columns keep a 1 px gap, so their uneven widths show
            const w = Math.max(1, px(col.end) - left - (col.predicted ? 1 : 0));
            const stale = r.state !== 'fresh' && k >= r.staleFrom;
            return (
              <div
                key={k}
                data-testid="heatmap-cell"
                data-column={k}
                data-level={c.level}
                data-predicted={col.predicted ? 'true' : 'false'}
                data-stale={stale ? 'true' : 'false'}
                onMouseEnter={(e) =>
                  setTip({
                    x: e.clientX,
                    y: e.clientY,
                    instance: r.instance,
                    lines: cellTooltip(model, r, k, (ms) => formatTime(ms, true)),
                  })
                }
                onMouseLeave={() => setTip(undefined)}
                style={{
                  position: 'absolute',
                  left: left + (col.predicted ? 1 : 0),
                  width: w,
                  top: 0,
                  bottom: 0,
                  backgroundColor: colors[c.level],
                  backgroundImage: stale ? STALE_PATTERN : undefined,
                }}
              />
            );
          })}
          {r.state === 'unknown' && (
            // over the hatch where nothing is known (its last good data on, and ahead): said in words
            <div
              data-testid="row-unknown"
              onMouseEnter={(e) =>
                setTip({
                  x: e.clientX,
                  y: e.clientY,
                  instance: r.instance,
                  lines: [`${r.instance}${r.profile ? ` (${r.profile})` : ''}`, marked ?? 'unknown'],
                })
              }
              onMouseLeave={() => setTip(undefined)}
              style={{
                position: 'absolute',
                left: unknownLeft,
                right: 0,
                top: 0,
                bottom: 0,
                display: 'flex',
                alignItems: 'center',
                justifyContent: 'center',
                overflow: 'hidden',
                whiteSpace: 'nowrap',
                fontSize: 11,
                fontStyle: 'italic',
                color: theme.text,
              }}
            >
              unknown: no current data or forecast
            </div>
          )}
        </div>
        {isSelected && (
          <div
            data-testid="selected-outline"
            style={{
              position: 'absolute',
              inset: 0,
              border: `2px solid ${theme.selected}`,
              pointerEvents: 'none',
              zIndex: 1,
            }}
          />
        )}
      </div>
    );
  };

  return (
    <div
      ref={rootRef}
      data-testid="heatmap"
      data-rows={model.rows.length}
      style={{
        position: 'relative',
        width,
        height: HEADER + bodyHeight,
        color: theme.text,
        fontFamily: theme.fontFamily,
      }}
    >
      <Legend
        colors={colors}
        stale={model.rows.some((r) => r.state === 'stale')}
        unknown={model.rows.some((r) => r.state === 'unknown')}
      />
      <div
        data-testid="time-axis"
        style={{ position: 'relative', height: AXIS, fontSize: 11, marginLeft: LABEL_WIDTH }}
      >
        <span
          data-testid="past-caption"
          style={{
            position: 'absolute',
            left: 0,
            top: 2,
            maxWidth: Math.max(0, nowX - 8),
            overflow: 'hidden',
            whiteSpace: 'nowrap',
            color: theme.textWeak,
          }}
        >
          {`past risk${model.sameScale ? '' : ' (compressed scale)'}`}
        </span>
        {hasFuture && (
          <span
            data-testid="predicted-label"
            style={{
              position: 'absolute',
              left: nowX + 6,
              top: 2,
              maxWidth: Math.max(0, gridWidth - nowX - 6),
              overflow: 'hidden',
              whiteSpace: 'nowrap',
              color: theme.textWeak,
            }}
          >
            predicted risk → (column width ∝ time ahead)
          </span>
        )}
        {labels.map((l) => (
          <React.Fragment key={`${l.kind}-${l.x}-${l.text}`}>
            <span
              data-testid={l.kind === 'past' ? 'time-tick' : l.kind === 'now' ? 'now-label' : 'horizon-label'}
              style={{
                position: 'absolute',
                top: 16,
                left: l.x,
                transform: 'translateX(-50%)',
                whiteSpace: 'nowrap',
                fontWeight: l.kind === 'now' ? 600 : 400,
              }}
            >
              {l.text}
            </span>
            <span
              style={{ position: 'absolute', bottom: 0, left: l.x, width: 1, height: 4, background: theme.textWeak }}
            />
          </React.Fragment>
        ))}
      </div>
      <div
        data-testid="heatmap-scroll"
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        style={{ position: 'relative', height: bodyHeight, overflowY: 'auto', overflowX: 'hidden' }}
      >
        <div style={{ position: 'relative', height: model.rows.length * ROW_HEIGHT }}>
          {model.rows.slice(first, last).map((r, i) => row(r, first + i))}
        </div>
      </div>
      <div
        data-testid="now-line"
        title="now"
        style={{
          position: 'absolute',
          left: LABEL_WIDTH + nowX - 1,
          top: HEADER - 6,
          width: 2,
          height: bodyHeight + 6,
          background: theme.text,
          pointerEvents: 'none',
          zIndex: 2,
        }}
      />
      {tip && (
        <div
          ref={tipRef}
          data-testid="tooltip"
          role="tooltip"
          style={{
            position: 'absolute',
            left: tipPos?.left ?? 0,
            top: tipPos?.top ?? 0,
            visibility: tipPos ? 'visible' : 'hidden',
            background: theme.backgroundRaised,
            color: theme.text,
            border: `1px solid ${theme.border}`,
            borderRadius: 2,
            padding: '4px 8px',
            fontSize: 12,
            pointerEvents: 'none',
            zIndex: 1000,
            // a long name wraps inside the box (all of it readable) instead of running out of the panel
            maxWidth: Math.max(120, Math.min(TOOLTIP_MAX_WIDTH, width - 16)),
            boxSizing: 'border-box',
            overflowWrap: 'anywhere',
            boxShadow: '0 2px 6px rgba(0,0,0,0.25)',
          }}
        >
          {tip.lines.map((l, i) =>
            i === 0 && l.startsWith(tip.instance) ? (
              <div key={i}>
                <bdi data-testid="tooltip-instance">{tip.instance}</bdi>
                {l.slice(tip.instance.length)}
              </div>
            ) : (
              <div key={i}>{l}</div>
            )
          )}
        </div>
      )}
    </div>
  );
}
