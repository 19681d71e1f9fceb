/** Small shared pieces: status pills, the member note, the SVG line chart. */
import type { ComponentChildren } from 'preact';
import type { Session } from './api.ts';

import type { Status } from './health-model.ts';

export type { Status };

const LABEL: Record<Status, string> = { normal: 'Normal', warning: 'Warning', critical: 'Critical' };

export function StatusPill({ status }: { status: Status }) {
  return <span class={`pill pill-${status}`}>{LABEL[status]}</span>;
}

/** On a member every write control is absent or disabled: this note says so and names the leader's console. */
export function ReadOnlyNote({ session }: { session: Session }) {
  if (session.pce.cluster_type === 'leader') return null;
  const url = session.leader?.console_url;
  return (
    <p class="note" role="note" data-testid="read-only-note">
      This PCE is a member: its console is read-only. Make changes on the leader
      {session.leader ? ` ${session.leader.fqdn}` : ''}
      {url ? (
        <>
          {' '}
          at <a href={`${url}/`}>{url}/</a>
        </>
      ) : null}
      .
    </p>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <div class="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export interface Series {
  readonly name: string;
  readonly points: readonly { t: number; v: number | null }[];
}

const COLORS = ['#1f5fa8', '#b5480b', '#2c7a3f', '#7a3fa0', '#9a6b00', '#006d75', '#a3224a', '#4a4a4a'];

/** A line per series over [from, to]; y from 0 to the largest value (at least `minMax`). */
export function LineChart({ series, from, to, minMax = 1, unit, label }: { series: readonly Series[]; from: number; to: number; minMax?: number; unit: string; label: string }) {
  const w = 320;
  const h = 90;
  const max = Math.max(minMax, ...series.flatMap((s) => s.points.map((p) => p.v ?? 0)));
  const x = (t: number) => ((t - from) / Math.max(1, to - from)) * w;
  const y = (v: number) => h - (v / max) * h;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h + 2}`} role="img" aria-label={label} preserveAspectRatio="none">
        <line x1="0" y1={h} x2={w} y2={h} class="axis" />
        {series.map((s, i) => {
          const pts = s.points.filter((p) => p.v !== null && p.t >= from);
          if (pts.length === 0) return null;
          const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v ?? 0).toFixed(1)}`).join(' ');
          return <path key={s.name} d={d} fill="none" stroke={COLORS[i % COLORS.length]} stroke-width="1.5" />;
        })}
      </svg>
      <figcaption>
        <span>max {max.toFixed(1)} {unit}</span>
        <ul class="legend">
          {series.map((s, i) => {
            const last = [...s.points].reverse().find((p) => p.v !== null);
            return (
              <li key={s.name}>
                <span class="swatch" style={`background:${COLORS[i % COLORS.length]}`} aria-hidden="true" />
                {s.name}: {last?.v == null ? 'n/a' : `${last.v} ${unit}`}
              </li>
            );
          })}
        </ul>
      </figcaption>
    </figure>
  );
}

export { short } from './health-model.ts';

export const ago = (iso: string | null): string => {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

/** A table's header row: one column header per name. */
export function Head({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A table's horizontal scrolling box, reachable with the keyboard (a scrollable region must be focusable). */
export function TableBox({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
