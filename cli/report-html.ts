// CLI: the report as one self-contained HTML page an auditor can open offline. Chart.js (its
// UMD build, read from node_modules) is inlined with the report's JSON; a Content-Security-Policy
// forbids any network fetch, so the page shows the same thing on a plane as in the office.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Figures, GovernanceReport, Stats } from '../lambdas/domain/report';
import type { UsageSection } from './permission-usage';
import { repeatText } from './output';

const require = createRequire(import.meta.url);

/** Chart.js's browser build; `require.resolve` finds the package's CommonJS entry next to it. */
function chartJsSource(): string {
  const code = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  return code.replace(/\/\/# sourceMappingURL=.*$/m, '').replace(/<\/script/gi, '<\\/script');
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function card(label: string, value: string | number, alarming = false): string {
  return `<div class="card${alarming ? ' alarm' : ''}"><div class="value">${escapeHtml(String(value))}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

const statsCells = (stats: Stats) =>
  `<td>${stats.count}</td><td>${formatMs(stats.median)}</td><td>${formatMs(stats.p95)}</td><td>${formatMs(stats.max)}</td>`;

function summary(f: Figures): string {
  return [
    card('grants requested', f.grants.requested),
    card('issued', f.grants.issued),
    card('denied', f.grants.denied),
    card('pending', f.grants.pending),
    card('expired unanswered', f.grants.expiredUnanswered),
    card('standing privilege', f.standingPrivilege.count, f.standingPrivilege.count > 0),
    card('still valid after notice', f.stillValidAfterNotice.count, f.stillValidAfterNotice.count > 0),
    card('use after revocation', f.useAfterRevocation.count, f.useAfterRevocation.count > 0),
    card('leaks reported', f.leaks.count),
    card('chains that do not verify', f.brokenChains.length, f.brokenChains.length > 0),
  ].join('');
}

function durations(f: Figures): string {
  const row = (label: string, stats: Stats) => `<tr><th>${label}</th>${statsCells(stats)}</tr>`;
  return `<table><thead><tr><th></th><th>count</th><th>median</th><th>p95</th><th>max</th></tr></thead><tbody>
${row('credential lifetime', f.credentialLifetimeMs)}${row('task duration', f.taskDurationMs)}
${row('notice → revoked', f.revocation.noticeToRevokedMs)}${row('revoked → verified', f.revocation.revokedToVerifiedMs)}
${row('leak → killed', f.leaks.timeToKillMs)}${row('time to decision', f.approvals.timeToDecisionMs)}</tbody></table>`;
}

function perAgent(report: GovernanceReport): string {
  const rows = Object.entries(report.agents).map(
    ([agentId, f]) =>
      `<tr><th>${escapeHtml(agentId)}</th><td>${f.grants.requested}</td><td>${f.grants.issued}</td><td>${f.grants.denied}</td><td>${f.grants.pending}</td>` +
      `<td class="${f.standingPrivilege.count > 0 ? 'bad' : ''}">${f.standingPrivilege.count}</td><td>${formatMs(f.credentialLifetimeMs.median)}</td>` +
      `<td>${formatMs(f.revocation.noticeToRevokedMs.p95)}</td><td class="${f.stillValidAfterNotice.count > 0 ? 'bad' : ''}">${f.stillValidAfterNotice.count}</td>` +
      `<td>${f.suspensions.suspendedNow.length > 0 ? '<span class="bad">suspended</span>' : 'active'}</td></tr>`,
  );
  return `<table><thead><tr><th>agent</th><th>requested</th><th>issued</th><th>denied</th><th>pending</th><th>standing</th><th>lifetime median</th><th>notice→revoked p95</th><th>still valid</th><th>status</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** `--by account`: one row per account the grants came from (`hub`: the engine's own). */
function perAccount(accounts: NonNullable<GovernanceReport['accounts']>): string {
  const rows = Object.entries(accounts).map(
    ([account, f]) =>
      `<tr><th>${escapeHtml(account)}</th><td>${f.grants.requested}</td><td>${f.grants.issued}</td><td>${f.grants.denied}</td>` +
      `<td class="${f.grants.failed > 0 ? 'bad' : ''}">${f.grants.failed}</td><td class="${f.standingPrivilege.count > 0 ? 'bad' : ''}">${f.standingPrivilege.count}</td>` +
      `<td>${formatMs(f.revocation.noticeToRevokedMs.p95)}</td><td class="${f.stillValidAfterNotice.count > 0 ? 'bad' : ''}">${f.stillValidAfterNotice.count}</td>` +
      `<td class="${f.useAfterRevocation.count > 0 ? 'bad' : ''}">${f.useAfterRevocation.count}</td></tr>`,
  );
  return `<table id="per-account"><thead><tr><th>account</th><th>requested</th><th>issued</th><th>denied</th><th>failed</th><th>standing</th><th>notice→revoked p95</th><th>still valid</th><th>used after revocation</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** ` in account 444455556666` for a credential of a spoke. */
const inAccount = (item: { readonly account?: string }) => (item.account ? ` in account ${item.account}` : '');

function findings(f: Figures): string {
  const items = [
    ...f.standingPrivilege.credentials.map(
      (c) => `standing privilege: ${c.grantId} (${c.agentId}/${c.taskId})${inAccount(c)} ${c.state} since ${c.since}`,
    ),
    ...f.stillValidAfterNotice.findings.map(
      (x) => `still valid after notice: ${x.grantId} (${x.agentId}/${x.taskId})${inAccount(x)} at ${x.at}: ${x.detail}`,
    ),
    ...f.useAfterRevocation.findings.map(
      (x) => `use after revocation: ${x.grantId} (${x.agentId}/${x.taskId})${inAccount(x)} at ${x.at}: ${x.detail}`,
    ),
    ...f.brokenChains.map((b) => `audit chain broken: ${b.grantId} (${b.agentId}/${b.taskId}) at link ${b.brokenAt}: ${b.why}`),
    ...f.suspensions.suspendedNow.map(
      (a) => `suspended: ${a.agentId} by ${a.by ?? '?'} at ${a.at ?? '?'}: ${a.reason ?? ''}${repeatText(a)}`,
    ),
  ];
  if (items.length === 0)
    return '<p class="good">No findings: no standing privilege, no credential outlived its notice, every audit chain verifies.</p>';
  return `<ul class="findings">${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
}

const actionsCell = (actions: readonly string[]) =>
  actions.length === 0 ? '–' : actions.map((a) => `<code>${escapeHtml(a)}</code>`).join(' ');

/** Scopes' permissions that no task of the period used: one table overall, one per agent, and what the record cannot see. */
function unusedPermissions(section: UsageSection | undefined): string {
  if (!section) return '';
  if (!section.read) return `<p>Not read: ${escapeHtml(section.why)}</p>`;
  const { usage } = section;
  if (usage.scopes.length === 0) return '<p>No credential was issued in the period.</p>';
  const rows = usage.scopes.map(
    (s) =>
      `<tr><th>${escapeHtml(s.scope)}</th><td>${s.grantsRead}/${s.grants}</td><td>${s.granted.length}</td><td>${s.used.length}</td>` +
      `<td class="actions${s.unused.length > 0 ? ' bad' : ''}">${s.grantsRead === 0 ? 'unknown' : actionsCell(s.unused)}</td></tr>`,
  );
  const agentRows = Object.entries(usage.agents).flatMap(([agentId, scopes]) =>
    scopes
      .filter((s) => s.unused.length > 0)
      .map(
        (s) => `<tr><th>${escapeHtml(agentId)}</th><td>${escapeHtml(s.scope)}</td><td class="actions">${actionsCell(s.unused)}</td></tr>`,
      ),
  );
  const notes = [
    ...(usage.grantsUnread > 0 ? [`${usage.grantsUnread} credentials' calls could not be read: their use is unknown.`] : []),
    ...section.notes,
  ];
  const head =
    '<thead><tr><th>scope</th><th>credentials read</th><th>granted</th><th>used</th><th>unused: candidates to narrow</th></tr></thead>';
  const byAgent = '<thead><tr><th>agent</th><th>scope</th><th>unused by this agent</th></tr></thead>';
  return `<table id="unused-permissions">${head}<tbody>${rows.join('')}</tbody></table>
${agentRows.length > 0 ? `<table id="unused-by-agent">${byAgent}<tbody>${agentRows.join('')}</tbody></table>` : ''}
<ul class="notes">${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`;
}

/** Drawn in the browser from the embedded JSON; animation off so the page is complete once loaded. */
const CHARTS_SCRIPT = `
(() => {
  const report = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const seconds = (ms) => ms === undefined ? null : ms / 1000;
  const lifetimes = report.samples.lifetimes.slice(-60);
  new Chart(document.getElementById('chart-lifetimes'), {
    type: 'bar',
    data: {
      labels: lifetimes.map((s) => s.agentId + ' ' + s.grantId.slice(0, 8)),
      datasets: [
        { label: 'credential lifetime (s)', data: lifetimes.map((s) => seconds(s.lifetimeMs)), backgroundColor: '#d9822b' },
        { label: 'task duration (s)', data: lifetimes.map((s) => seconds(s.taskMs)), backgroundColor: '#2b6cb0' },
      ],
    },
    options: { responsive: true, scales: { y: { beginAtZero: true, title: { display: true, text: 'seconds' } } } },
  });
  const revocations = report.samples.revocations;
  new Chart(document.getElementById('chart-latency'), {
    type: 'line',
    data: {
      labels: revocations.map((s) => s.noticeAt.replace('T', ' ').slice(0, 19)),
      datasets: [
        { label: 'notice → revoked (ms)', data: revocations.map((s) => s.noticeToRevokedMs ?? null), borderColor: '#c53030', backgroundColor: '#c53030' },
        { label: 'revoked → verified (ms)', data: revocations.map((s) => s.revokedToVerifiedMs ?? null), borderColor: '#2f855a', backgroundColor: '#2f855a' },
      ],
    },
    options: { responsive: true, spanGaps: true, scales: { y: { beginAtZero: true, title: { display: true, text: 'milliseconds' } } } },
  });
  const states = Object.entries(report.overall.byState);
  const palette = { requested: '#a0aec0', pending_approval: '#ecc94b', issuing: '#f6ad55', active: '#ed8936', revoking: '#b83280', revoked: '#805ad5', verified: '#38a169', denied: '#e53e3e', failed: '#742a2a' };
  new Chart(document.getElementById('chart-states'), {
    type: 'doughnut',
    data: { labels: states.map(([s]) => s), datasets: [{ label: 'grants', data: states.map(([, n]) => n), backgroundColor: states.map(([s]) => palette[s] || '#718096') }] },
    options: { responsive: true },
  });
  document.body.dataset.chartsRendered = String(Object.keys(Chart.instances).length);
})();
`;

/** The whole page: summary, charts, per-agent table, findings, unused permissions, and the report's JSON embedded. */
export function reportHtml(report: GovernanceReport & { readonly permissionUsage?: UsageSection }): string {
  const f = report.overall;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Taskbound report ${escapeHtml(report.since.slice(0, 10))} – ${escapeHtml(report.until.slice(0, 10))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1a202c;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e2e8f0}
.period{color:#4a5568}.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #e2e8f0;border-radius:6px;padding:.6rem .9rem;min-width:8rem}
.card .value{font-size:1.5rem;font-weight:600}.card .label{color:#4a5568;font-size:.85rem}.card.alarm{border-color:#e53e3e;background:#fff5f5}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .7rem;text-align:right;border-bottom:1px solid #edf2f7}th:first-child{text-align:left}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}.charts figure{margin:0}.charts figure.wide{grid-column:1/3}figcaption{font-weight:600;margin-bottom:.3rem}.chart{position:relative;height:280px}
td.actions{text-align:left;max-width:40rem}.notes{color:#4a5568;font-size:.85rem}.bad{color:#c53030;font-weight:600}.good{color:#2f855a}.findings li{margin:.2rem 0}footer{margin-top:2rem;color:#718096;font-size:.8rem}
</style></head>
<body>
<h1>Taskbound governance report</h1>
<p class="period">Grants created from <time>${escapeHtml(report.since)}</time> to <time>${escapeHtml(report.until)}</time>. Standing privilege and audit chains cover every grant in the store.</p>
<div class="cards">${summary(f)}</div>
<h2>Charts</h2>
<div class="charts">
<figure class="wide"><figcaption>Credential lifetime against task duration</figcaption><div class="chart"><canvas id="chart-lifetimes"></canvas></div></figure>
<figure><figcaption>Revocation latency over time</figcaption><div class="chart"><canvas id="chart-latency"></canvas></div></figure>
<figure><figcaption>Grants by state</figcaption><div class="chart"><canvas id="chart-states"></canvas></div></figure>
</div>
<h2>Durations</h2>${durations(f)}
<h2>Per agent</h2>${perAgent(report)}
${
  report.accounts
    ? `<h2>Per account</h2>${perAccount(report.accounts)}
`
    : ''
}<h2>Findings</h2>${findings(f)}
${report.permissionUsage ? `<h2>Permissions granted but unused</h2>${unusedPermissions(report.permissionUsage)}` : ''}
<footer>Generated by <code>taskbound report --html</code>. The figures as JSON are embedded in this page (<code>#report-data</code>); <code>taskbound report --json</code> prints the same.</footer>
<script id="report-data" type="application/json">${scriptJson(report)}</script>
<script>${chartJsSource()}</script>
<script>${CHARTS_SCRIPT}</script>
</body></html>
`;
}
