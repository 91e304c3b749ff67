// The read-only /graph routes on a real metrics listener: the new console data (ranges, agent and edge details)
// is token-protected like /graph, and every field /graph served before is still there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../proxy/metrics.js';
import { startMetricsServer } from '../../proxy/metrics-server.js';
import { createGraphRoutes } from '../../ui/graph-routes.js';
import { ID, makeFixture } from './fixture.js';

const TOKEN = 'console-token';
let base = '';
let close: () => Promise<void>;
let loopRoot = '';

beforeAll(async () => {
  const f = makeFixture();
  loopRoot = f.loopTask();
  f.fail(f.call('alice', 'writer'), 502, 'refused');
  f.deny('bob', 'writer', 403, 'no_rule');
  const routes = createGraphRoutes({ graph: f.stage.graph, access: { loopbackOnly: false, token: TOKEN }, now: Date.now });
  const srv = await startMetricsServer({ listen: '127.0.0.1:0', metrics: createMetrics({ processMetrics: false }), routes });
  base = `http://127.0.0.1:${srv.port}`;
  close = () => srv.close();
});
afterAll(() => close?.());

const get = (path: string, token: string | null = TOKEN) => fetch(`${base}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });

describe('/graph routes for the console', () => {
  it('need the token, like /graph', async () => {
    for (const path of ['/graph', '/graph?range=1m', `/graph/agents/${encodeURIComponent(ID.writer)}`, '/graph/edges?from=alice&to=writer']) {
      expect((await get(path, null)).status, path).toBe(401);
      expect((await get(path, 'wrong')).status, path).toBe(401);
      expect((await get(path)).status, path).toBe(200);
    }
  });

  it('/graph keeps every field it had, and adds the new figures beside them', async () => {
    const g = await (await get('/graph')).json();
    expect(Object.keys(g)).toEqual(expect.arrayContaining(['at', 'windowMs', 'costUnit', 'nodes', 'edges', 'cycles', 'recentTasks', 'rangeMs', 'loopsCut']));
    const e = g.edges.find((x: { to: string; from: string }) => x.from === ID.alice && x.to === ID.writer);
    expect(Object.keys(e)).toEqual(
      expect.arrayContaining(['from', 'to', 'calls', 'errors', 'refusals', 'latencyAvgMs', 'latencyMaxMs', 'onCycle', 'fromName', 'toName']),
    );
    expect(e).toMatchObject({ errors: 1, errorsByKind: { refused: 1 }, health: 'bad' });
    expect(g.nodes[0]).toMatchObject({ id: expect.any(String), name: expect.any(String), onCycle: expect.any(Boolean), health: expect.any(String) });
    expect(g.loopsCut).toBe(1);
    const task = await (await get(`/graph/tasks/${loopRoot}`)).json();
    expect(task.calls[0]).toMatchObject({ outcome: 'ok', error: null });
  });

  it('a range: 400 when it is not a duration; the span it covers is reported', async () => {
    expect((await get('/graph?range=soon')).status).toBe(400);
    expect((await get('/graph?range=0s')).status).toBe(400);
    expect((await (await get('/graph?range=30s')).json()).rangeMs).toBe(30_000);
    expect((await (await get('/graph?range=60000')).json()).rangeMs).toBe(60_000);
  });

  it('an agent by name or SPIFFE ID: calls in and out, failures by kind, refusals by reason, recent calls', async () => {
    const byId = await (await get(`/graph/agents/${encodeURIComponent(ID.writer)}`)).json();
    const byName = await (await get('/graph/agents/writer')).json();
    expect(byName.agent).toEqual(byId.agent);
    expect(byId.agent).toEqual({ id: ID.writer, name: 'writer' });
    expect(byId.in).toMatchObject({ calls: 1, errors: 1, refusals: 1, errorsByKind: { refused: 1 }, refusalsByReason: { no_rule: 1 }, health: 'bad' });
    // both in the same millisecond here: compared as a set
    expect(byId.recentCalls.map((c: { outcome: string; status: number; reason: string }) => [c.outcome, c.status, c.reason]).sort()).toEqual([
      ['error', 502, 'refused'],
      ['refused', 403, 'no_rule'],
    ]);
    expect((await get('/graph/agents/nobody')).status).toBe(404);
    expect((await get('/graph/agents/%E0%A4%A')).status).toBe(400);
  });

  it('an edge: its figures and recent calls; 400 without both ends, 404 for an unknown one', async () => {
    const d = await (await get('/graph/edges?from=researcher&to=orchestrator')).json();
    expect(d).toMatchObject({ kind: 'edge', from: { name: 'researcher' }, to: { name: 'orchestrator' }, edge: { refusals: 1, refusalsByReason: { loop: 1 } } });
    expect(d.recentCalls[0]).toMatchObject({ outcome: 'refused', status: 508, reason: 'loop', rootTaskId: loopRoot });
    expect((await get('/graph/edges?from=researcher')).status).toBe(400);
    expect((await get('/graph/edges?from=researcher&to=nobody')).status).toBe(404);
  });
});
