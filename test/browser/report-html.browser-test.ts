import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportHtml } from '../../cli/report-html';
import { transition } from '../../lambdas/domain/grant';
import { permissionUsage } from '../../lambdas/domain/credential-usage';
import { buildGovernanceReport } from '../../lambdas/domain/report';
import { activeGrant, requestedGrant, revokedGrant } from '../unit/cli/cli-harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A week with revocations at different latencies, a still-valid credential, pending and live grants. */
function weekReport() {
  const grants = Array.from({ length: 12 }, (_, index) => {
    const day = String(22 + (index % 6)).padStart(2, '0');
    const start = `2026-11-${day}T0${index % 9}:00:00.000Z`;
    const notice = new Date(Date.parse(start) + (5 + index) * 60_000).toISOString();
    return revokedGrant(activeGrant(index % 2 ? 'release-bot' : 'deploy-bot', `t-${index}`, start), {
      noticeAt: notice,
      revokedAfterMs: 20 + index * 15,
      verifiedAfterMs: 100 + index * 40,
    });
  });
  const leaked = revokedGrant(activeGrant('deploy-bot', 't-leak', '2026-11-27T10:00:00.000Z'), {
    trigger: 'leaked',
    noticeAt: '2026-11-27T10:05:00.000Z',
    revokedAfterMs: 900,
  });
  const stillValid = transition(leaked, {
    to: 'revoking',
    at: '2026-11-27T10:06:00.000Z',
    actor: 'taskbound',
    action: 'still-valid',
    reason: 'still accepted',
  });
  const governance = buildGovernanceReport({
    grants: [
      ...grants,
      stillValid,
      activeGrant('release-bot', 'live', '2026-11-28T11:50:00.000Z'),
      requestedGrant('deploy-bot', 'waiting', '2026-11-28T11:00:00.000Z'),
    ],
    agents: [{ agentId: 'deploy-bot', suspended: true, by: 'secops@example.com', reason: 'drill', at: '2026-11-28T11:30:00.000Z' }],
    since: new Date('2026-11-21T12:00:00.000Z'),
    until: new Date('2026-11-28T12:00:00.000Z'),
  });
  const usage = permissionUsage(
    [
      { grantId: 'g-1', agentId: 'deploy-bot', scopes: ['deploy-web'], used: ['codedeploy:CreateDeployment'] },
      { grantId: 'g-2', agentId: 'release-bot', scopes: ['repo-read'], used: ['codecommit:GitPull'] },
    ],
    {
      'deploy-web': ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:GetDeploymentConfig'],
      'repo-read': ['codecommit:GitPull'],
    },
  );
  return {
    ...governance,
    permissionUsage: { read: true as const, source: 'local-engine' as const, usage, notes: ['calls recorded by the local engine'] },
  };
}

describe('the HTML report in headless Chromium', () => {
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-html-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('draws its three charts and the unused-permissions table offline, with no console error and no request beyond the file itself', async () => {
    const file = join(dir, 'report.html');
    await writeFile(file, reportHtml(weekReport()), 'utf8');
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    page.on('request', (request) => requests.push(request.url()));
    await page.setViewport({ width: 1200, height: 1600 });

    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // Page code as strings: the project's TypeScript has no DOM library (it would change fetch's types everywhere).
    await page.waitForFunction("document.body.dataset.chartsRendered === '3'", { timeout: 10_000 });
    const painted = (await page.evaluate(`
      ['chart-lifetimes', 'chart-latency', 'chart-states'].map((id) => {
        const canvas = document.getElementById(id);
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let index = 3; index < pixels.length; index += 4) if (pixels[index] > 0) inked++;
        return { id, width: canvas.width, height: canvas.height, inked };
      })`)) as { id: string; width: number; height: number; inked: number }[];
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });

    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    for (const chart of painted) {
      expect(chart.width, chart.id).toBeGreaterThan(200);
      // Bars, lines and arcs cover far more than the axes' text would.
      expect(chart.inked, chart.id).toBeGreaterThan(2000);
    }
    expect(await page.evaluate("document.querySelector('.cards').textContent")).toContain('still valid after notice');
    expect(await page.evaluate("document.querySelector('#unused-permissions').innerText")).toMatch(
      /deploy-web\s+1\/1\s+3\s+1\s+codedeploy:GetDeployment/,
    );
  });
});
