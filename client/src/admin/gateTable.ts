/** A version's gate report as a table: metric, value, bar, pass/fail, reference methods. */
import type { GateReport } from '@shared/onboarding';
import { h } from '../ui/dom';

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

export function gateTable(gates: GateReport): HTMLElement {
  const references = [...new Set(Object.values(gates.metrics).flatMap((m) => Object.keys(m.reference ?? {})))];
  return h(
    'table',
    { class: 'gates', 'data-testid': 'gate-table' },
    h('caption', {}, `${gates.passed ? 'Passed' : 'Failed'} — evaluated on ${gates.evaluatedOn}`),
    h('thead', {}, h('tr', {}, h('th', {}, 'metric'), h('th', {}, 'student'), h('th', {}, 'bar'), h('th', {}, 'result'), ...references.map((r) => h('th', {}, r)))),
    h(
      'tbody',
      {},
      ...Object.entries(gates.metrics).map(([name, m]) =>
        h(
          'tr',
          { class: m.passed ? 'pass' : 'fail' },
          h('td', {}, name),
          h('td', {}, fmt(m.value)),
          h('td', {}, `${m.op} ${fmt(m.threshold)}`),
          h('td', {}, m.passed ? 'pass' : 'FAIL'),
          ...references.map((r) => h('td', {}, m.reference?.[r] !== undefined ? fmt(m.reference[r] as number) : '–')),
        ),
      ),
    ),
  );
}
