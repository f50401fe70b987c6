// `nsm-local get pods`: the columns of `kubectl get pods -A -o wide` that mean something here.
import type { Pod } from './types';

function age(created: string | undefined, now: number): string {
  if (!created) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(created)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

/** The phase column as kubectl prints it: a waiting or terminated reason wins over the phase. */
function statusOf(p: Pod): string {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  const st = p.status.containerStatuses?.[0]?.state;
  if (st?.waiting) return st.waiting.reason;
  if (st?.terminated && p.status.phase !== 'Running') return st.terminated.reason;
  return p.status.phase;
}

export function podTable(pods: Pod[], now = Date.now()): string {
  const rows = [['NAMESPACE', 'NAME', 'STATUS', 'RESTARTS', 'AGE', 'NODE']];
  for (const p of pods) {
    rows.push([p.metadata.namespace, p.metadata.name, statusOf(p), String(p.status.containerStatuses?.[0]?.restartCount ?? 0), age(p.metadata.creationTimestamp, now), p.spec.nodeName ?? '<none>']);
  }
  return columns(rows);
}

/** Rows as kubectl prints them: columns padded to their widest cell, three spaces apart. */
export function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd()).join('\n');
}
