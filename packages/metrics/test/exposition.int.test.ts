import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from '../src/index.js';
import { sendLoad, startExampleApp, type ExampleApp } from './example-app.js';
import { prometheusBinary, promtool } from '@org/test-services';

const hasPromtool = prometheusBinary('promtool') !== undefined;
const OM_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let app: ExampleApp;
beforeAll(async () => {
  app = await startExampleApp({ bearerToken: 'a-long-enough-scrape-token' });
  await sendLoad(app.url, 2);
});
afterAll(async () => {
  await app.close();
});

const scrape = (accept?: string, token = 'a-long-enough-scrape-token') =>
  fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });

describe('/metrics handler', () => {
  it('answers 401 without the bearer token and never shows metrics', async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(await res.text()).not.toContain('http_requests_total');
    expect((await scrape(undefined, 'a-long-enough-scrape-tokeX')).status).toBe(401);
  });

  it('gives the Prometheus text format by default and for text/plain', async () => {
    for (const accept of [undefined, 'text/plain', '*/*', 'application/openmetrics-text;q=0']) {
      const res = await scrape(accept);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
      const body = await res.text();
      expect(body).not.toContain('# EOF');
      expect(body).toContain('# TYPE http_requests_total counter');
    }
  });

  it('gives OpenMetrics 1.0.0 ending in # EOF when Accept asks for it (Prometheus 2.x default Accept)', async () => {
    const res = await scrape(OM_ACCEPT);
    expect(res.headers.get('content-type')).toBe(OPENMETRICS_CONTENT_TYPE);
    const body = await res.text();
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(body).toContain('# TYPE http_requests counter');
    expect(body).toMatch(/^http_requests_total\{/m);
  });
});

describe.skipIf(!hasPromtool)('promtool check metrics', () => {
  it('control: prom-client collectDefaultMetrics() fails promtool (gauges named *_total)', () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry.metrics().then((text) => {
      const { code, output } = promtool(['check', 'metrics'], text);
      expect(code).not.toBe(0);
      expect(output).toMatch(/nodejs_active_handles_total non-counter metrics should not have "_total" suffix/);
    });
  });

  it('prints nothing for the Prometheus text format, runtime metrics included', async () => {
    const body = await (await scrape()).text();
    expect(body).toContain('nodejs_eventloop_lag_seconds');
    expect(body).toContain('nodejs_gc_duration_seconds_bucket');
    expect(promtool(['check', 'metrics'], body)).toEqual({ code: 0, output: '' });
  });

  it('OpenMetrics: promtool 2.42 parses only the 0.0.4 format, so its sole findings are "no help text" on counter samples whose OpenMetrics family has HELP', async () => {
    const body = await (await scrape(OM_ACCEPT)).text();
    const { output } = promtool(['check', 'metrics'], body);
    const findings = output.split('\n').filter(Boolean);
    for (const f of findings) {
      const m = /^(\w+)_total no help text$/.exec(f);
      expect(m, `unexpected finding: ${f}`).not.toBeNull();
      expect(body).toContain(`# HELP ${m![1]} `);
      expect(body).toContain(`# TYPE ${m![1]} counter`);
    }
    // The same text with the OpenMetrics-only family naming turned back into 0.0.4 naming is clean,
    // which proves every other line (values, labels, histograms, # EOF) passes the linter.
    const as004 = body.replace(/^# (HELP|TYPE) (\w+) (.*)$/gm, (line, kind: string, name: string, rest: string) =>
      body.includes(`# TYPE ${name} counter`) ? `# ${kind} ${name}_total ${rest}` : line,
    );
    expect(promtool(['check', 'metrics'], as004)).toEqual({ code: 0, output: '' });
  });
});
