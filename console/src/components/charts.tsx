/**
 * Charts drawn as plain SVG (no chart library): a line/scatter chart and a horizontal bar chart. Each is a
 * labelled figure (role="img" with a summary) and colours come from CSS variables, so both themes work.
 */
import type { ReactNode } from 'react';

export interface Point {
  x: number;
  y: number;
  label?: string;
}

export interface Series {
  name: string;
  points: Point[];
  /** Draw the points only (no line). */
  scatter?: boolean;
  dashed?: boolean;
  /**
   * Drawn beneath the other series, with hollow rings for points (a frontier, a fitted curve): a series whose
   * points coincide with it stays visible on top. `markers: false` draws the line only.
   */
  underlay?: boolean;
  markers?: boolean;
  /** A dotted line (a fitted curve), and the palette index to share a colour with the series it fits. */
  dotted?: boolean;
  colorIndex?: number;
  /**
   * The series to see first (the governor, `auto`): its own colour, large outlined diamonds and a thick line,
   * painted above every other series.
   */
  highlight?: boolean;
}

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross' | 'star';
const SHAPES: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star'];
export const markerShape = (index: number): MarkerShape => SHAPES[index % SHAPES.length]!;

/** A point marker of a given shape centred on (x, y); distinct shapes keep series apart without colour. */
export function Marker({
  shape,
  x,
  y,
  size,
  color,
  hollow = false,
  outline,
  children,
}: {
  shape: MarkerShape;
  x: number;
  y: number;
  size: number;
  color: string;
  hollow?: boolean;
  /** A dark outline instead of the thin surface-coloured one (the highlighted series). */
  outline?: string;
  children?: ReactNode;
}): ReactNode {
  const paint = hollow
    ? { fill: 'none', stroke: color, strokeWidth: 1.5 }
    : { fill: color, stroke: outline ?? 'var(--surface)', strokeWidth: outline ? 1.5 : 0.8 };
  const r = size;
  switch (shape) {
    case 'square':
      return (
        <rect x={x - r * 0.85} y={y - r * 0.85} width={r * 1.7} height={r * 1.7} {...paint} data-shape={shape}>
          {children}
        </rect>
      );
    case 'triangle':
      return (
        <polygon points={`${x},${y - r * 1.1} ${x + r},${y + r * 0.75} ${x - r},${y + r * 0.75}`} {...paint} data-shape={shape}>
          {children}
        </polygon>
      );
    case 'diamond':
      return (
        <polygon points={`${x},${y - r * 1.2} ${x + r},${y} ${x},${y + r * 1.2} ${x - r},${y}`} {...paint} data-shape={shape}>
          {children}
        </polygon>
      );
    case 'cross': {
      const a = r * 0.35;
      const b = r * 1.05;
      const points = [
        [-a, -b],
        [a, -b],
        [a, -a],
        [b, -a],
        [b, a],
        [a, a],
        [a, b],
        [-a, b],
        [-a, a],
        [-b, a],
        [-b, -a],
        [-a, -a],
      ];
      return (
        <polygon points={points.map(([dx, dy]) => `${x + dx!},${y + dy!}`).join(' ')} {...paint} data-shape={shape}>
          {children}
        </polygon>
      );
    }
    case 'star': {
      const points: string[] = [];
      for (let i = 0; i < 10; i++) {
        const radius = i % 2 === 0 ? r * 1.25 : r * 0.55;
        const angle = (Math.PI / 5) * i - Math.PI / 2;
        points.push(`${x + radius * Math.cos(angle)},${y + radius * Math.sin(angle)}`);
      }
      return (
        <polygon points={points.join(' ')} {...paint} data-shape={shape}>
          {children}
        </polygon>
      );
    }
    default:
      return (
        <circle cx={x} cy={y} r={r} {...paint} data-shape={shape}>
          {children}
        </circle>
      );
  }
}

const PALETTE = ['var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)', 'var(--c5)', 'var(--c6)'];
export const seriesColor = (index: number): string => PALETTE[index % PALETTE.length]!;
const HIGHLIGHT_COLOR = 'var(--governor)';
const colorOf = (entry: Series, index: number): string => (entry.highlight ? HIGHLIGHT_COLOR : seriesColor(entry.colorIndex ?? index));
const shapeOf = (entry: Series, index: number): MarkerShape =>
  entry.highlight ? 'diamond' : entry.underlay ? 'circle' : markerShape(index);

function ticks(min: number, max: number, count: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    // 1-2-5 steps per decade: a study's token range often spans less than one decade.
    for (let power = Math.floor(Math.log10(min)); power <= Math.ceil(Math.log10(max)); power++)
      out.push(10 ** power, 2 * 10 ** power, 5 * 10 ** power);
    return out.filter((value) => value >= min / 1.0001 && value <= max * 1.0001);
  }
  if (max === min) return [min];
  const step = niceStep((max - min) / count);
  const out: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step / 1e6; value += step) out.push(Number(value.toPrecision(12)));
  return out;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

const shortNumber = (value: number): string =>
  Math.abs(value) >= 1e6 ? `${value / 1e6}M` : Math.abs(value) >= 1e3 ? `${value / 1e3}k` : String(Number(value.toPrecision(3)));

export function LineChart({
  title,
  series,
  xLabel,
  yLabel,
  xLog = false,
  yDomain,
  formatY = shortNumber,
}: {
  title: string;
  series: Series[];
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yDomain?: [number, number];
  formatY?: (value: number) => string;
}): ReactNode {
  const width = 560;
  const height = 300;
  const margin = { top: 16, right: 16, bottom: 44, left: 60 };
  const all = series.flatMap((entry) => entry.points).filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
  if (all.length === 0) return <p className="muted">{title}: no data.</p>;
  let xMin = Math.min(...all.map((point) => point.x));
  let xMax = Math.max(...all.map((point) => point.x));
  if (xLog) xMin = Math.max(xMin, 1);
  if (xMin === xMax) {
    xMin = xLog ? xMin / 2 : xMin - 1;
    xMax = xLog ? xMax * 2 : xMax + 1;
  }
  // A little room at both ends, so that a point at the extremes is not drawn on the axis.
  if (xLog) {
    xMin /= 1.2;
    xMax *= 1.2;
  } else {
    const pad = (xMax - xMin) * 0.04;
    xMin -= xMin - pad < 0 && xMin >= 0 ? xMin : pad;
    xMax += pad;
  }
  const [yMin, yMax] = yDomain ?? [Math.min(0, ...all.map((point) => point.y)), Math.max(...all.map((point) => point.y)) || 1];
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const sx = (x: number): number =>
    margin.left +
    (xLog ? (Math.log10(Math.max(x, 1e-9)) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)) : (x - xMin) / (xMax - xMin)) *
      plotWidth;
  const sy = (y: number): number => margin.top + (1 - (y - yMin) / (yMax - yMin || 1)) * plotHeight;
  const summary = `${title}. ${series.map((entry) => `${entry.name}: ${entry.points.length} points`).join('; ')}.`;

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        {ticks(yMin, yMax, 5, false).map((value) => (
          <g key={`y${value}`}>
            <line className="grid" x1={margin.left} x2={width - margin.right} y1={sy(value)} y2={sy(value)} />
            <text className="tick" x={margin.left - 6} y={sy(value) + 4} textAnchor="end">
              {formatY(value)}
            </text>
          </g>
        ))}
        {ticks(xMin, xMax, 6, xLog).map((value) => (
          <text key={`x${value}`} className="tick" x={sx(value)} y={height - margin.bottom + 16} textAnchor="middle">
            {shortNumber(value)}
          </text>
        ))}
        <line className="axis" x1={margin.left} x2={width - margin.right} y1={height - margin.bottom} y2={height - margin.bottom} />
        <line className="axis" x1={margin.left} x2={margin.left} y1={margin.top} y2={height - margin.bottom} />
        <text className="axis-label" x={margin.left + plotWidth / 2} y={height - 6} textAnchor="middle">
          {xLabel}
        </text>
        <text className="axis-label" transform={`translate(14 ${margin.top + plotHeight / 2}) rotate(-90)`} textAnchor="middle">
          {yLabel}
        </text>
        {/* Underlays (frontier, fits) first: SVG paints in document order, so the measured series stay on top. */}
        {drawOrder(series).map(({ entry, index }) => {
          const points = entry.points.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
          const color = colorOf(entry, index);
          return (
            <g
              key={entry.name}
              className={entry.underlay ? 'series underlay' : entry.highlight ? 'series highlight' : 'series'}
              data-series={entry.name}
            >
              {!entry.scatter && points.length > 1 ? (
                <polyline
                  fill="none"
                  stroke={color}
                  strokeWidth={entry.underlay ? 1.5 : entry.highlight ? 3.5 : 2}
                  strokeOpacity={entry.underlay ? 0.8 : 1}
                  strokeDasharray={entry.dotted ? '2 3' : entry.dashed ? '6 4' : undefined}
                  points={points.map((point) => `${sx(point.x)},${sy(point.y)}`).join(' ')}
                />
              ) : null}
              {entry.markers === false
                ? null
                : points.map((point, pointIndex) => (
                    <Marker
                      key={pointIndex}
                      shape={shapeOf(entry, index)}
                      hollow={entry.underlay === true}
                      {...(entry.highlight ? { outline: 'var(--text)' } : {})}
                      x={sx(point.x)}
                      y={sy(point.y)}
                      size={entry.highlight ? 6.5 : entry.underlay ? 7 : entry.scatter ? 4.5 : 4}
                      color={color}
                    >
                      <title>{point.label ?? `${entry.name}: ${shortNumber(point.x)}, ${formatY(point.y)}`}</title>
                    </Marker>
                  ))}
            </g>
          );
        })}
      </svg>
      <ul className="legend" aria-label={`Legend of ${title}`}>
        {series.map((entry, index) => (
          <li key={entry.name} className={entry.highlight ? 'highlight' : undefined}>
            <LegendKey entry={entry} index={index} /> {entry.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** Series in painting order: underlays first, the highlighted last (on top), each keeping its index (its colour and marker). */
export function drawOrder(series: Series[]): { entry: Series; index: number }[] {
  const indexed = series.map((entry, index) => ({ entry, index }));
  return [
    ...indexed.filter(({ entry }) => entry.underlay),
    ...indexed.filter(({ entry }) => !entry.underlay && !entry.highlight),
    ...indexed.filter(({ entry }) => !entry.underlay && entry.highlight),
  ];
}

function LegendKey({ entry, index }: { entry: Series; index: number }): ReactNode {
  const color = colorOf(entry, index);
  return (
    <svg className="legend-key" width="26" height="14" viewBox="0 0 26 14" aria-hidden="true">
      {entry.scatter ? null : (
        <line
          x1="1"
          x2="25"
          y1="7"
          y2="7"
          stroke={color}
          strokeWidth={entry.highlight ? 3 : 2}
          strokeDasharray={entry.dotted ? '2 2' : entry.dashed ? '4 3' : undefined}
        />
      )}
      {entry.markers === false ? null : (
        <Marker
          shape={shapeOf(entry, index)}
          hollow={entry.underlay === true}
          {...(entry.highlight ? { outline: 'var(--text)' } : {})}
          x={13}
          y={7}
          size={4}
          color={color}
        />
      )}
    </svg>
  );
}

export function BarChart({
  title,
  bars,
  format,
}: {
  title: string;
  bars: { name: string; value: number }[];
  format: (value: number) => string;
}): ReactNode {
  if (bars.length === 0) return <p className="muted">{title}: no data.</p>;
  const max = Math.max(...bars.map((bar) => bar.value), 1e-12);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="bars" role="img" aria-label={`${title}: ${bars.map((bar) => `${bar.name} ${format(bar.value)}`).join(', ')}`}>
        {bars.map((bar, index) => (
          <div className="bar-row" key={bar.name}>
            <span className="bar-name">{bar.name}</span>
            <span className="bar-track">
              <span className="bar-fill" style={{ width: `${(Math.max(bar.value, 0) / max) * 100}%`, background: seriesColor(index) }} />
            </span>
            <span className="bar-value">{format(bar.value)}</span>
          </div>
        ))}
      </div>
    </figure>
  );
}

/** A meter: spent against a limit (keys, run budgets). */
export function SpendMeter({
  label,
  spent,
  limit,
  format,
}: {
  label: string;
  spent: number;
  limit: number | undefined;
  format: (value: number) => string;
}): ReactNode {
  const share = limit ? Math.min(1, spent / limit) : 0;
  return (
    <div className="meter-row">
      <span className="meter-label">{label}</span>
      {limit ? (
        <meter
          min={0}
          max={limit}
          value={Math.min(spent, limit)}
          high={limit * 0.8}
          optimum={0}
          aria-label={`${label}: ${format(spent)} of ${format(limit)}`}
        >
          {Math.round(share * 100)}%
        </meter>
      ) : (
        <span className="muted">no limit</span>
      )}
      <span className="meter-value">
        {format(spent)}
        {limit ? ` / ${format(limit)}` : ''}
      </span>
    </div>
  );
}

/**
 * Estimates with their intervals, one row each (accuracy with its 95% CI per strategy): a dot at the estimate
 * and a bar from low to high on a shared axis, so overlapping intervals are seen at a glance.
 */
export function IntervalChart({
  title,
  rows,
  domain,
  format,
}: {
  title: string;
  rows: { name: string; value: number; low: number; high: number }[];
  domain: [number, number];
  format: (value: number) => string;
}): ReactNode {
  if (rows.length === 0) return <p className="muted">{title}: no data.</p>;
  const width = 560;
  const rowHeight = 28;
  const margin = { top: 8, right: 70, bottom: 28, left: 170 };
  const height = margin.top + margin.bottom + rows.length * rowHeight;
  const plotWidth = width - margin.left - margin.right;
  const sx = (value: number): number =>
    margin.left + ((Math.min(Math.max(value, domain[0]), domain[1]) - domain[0]) / (domain[1] - domain[0] || 1)) * plotWidth;
  const summary = `${title}: ${rows.map((row) => `${row.name} ${format(row.value)} [${format(row.low)}, ${format(row.high)}]`).join('; ')}`;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        {ticks(domain[0], domain[1], 5, false).map((value) => (
          <g key={value}>
            <line className="grid" x1={sx(value)} x2={sx(value)} y1={margin.top} y2={height - margin.bottom} />
            <text className="tick" x={sx(value)} y={height - margin.bottom + 16} textAnchor="middle">
              {format(value)}
            </text>
          </g>
        ))}
        {rows.map((row, index) => {
          const y = margin.top + index * rowHeight + rowHeight / 2;
          const color = seriesColor(index);
          return (
            <g key={row.name} className="interval" data-row={row.name}>
              <text className="tick" x={margin.left - 8} y={y + 4} textAnchor="end">
                {row.name}
              </text>
              <line x1={sx(row.low)} x2={sx(row.high)} y1={y} y2={y} stroke={color} strokeWidth={3} strokeLinecap="round" />
              <line x1={sx(row.low)} x2={sx(row.low)} y1={y - 6} y2={y + 6} stroke={color} strokeWidth={2} />
              <line x1={sx(row.high)} x2={sx(row.high)} y1={y - 6} y2={y + 6} stroke={color} strokeWidth={2} />
              <Marker shape={markerShape(index)} x={sx(row.value)} y={y} size={5} color={color}>
                <title>{`${row.name}: ${format(row.value)} [${format(row.low)}, ${format(row.high)}]`}</title>
              </Marker>
              <text className="tick" x={width - margin.right + 8} y={y + 4}>
                {format(row.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
