// A calling URL without the agent's trailing slash (https://gw/a2a/echo) makes an A2A SDK resolve the card
// relative to /a2a/, i.e. GET /a2a/.well-known/agent-card.json. The gateway answers that path with a 404
// that says how to fix the URL, not "no agent named .well-known".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { decideRoute } from '../../proxy/stages/route.js';
import { get, startHarness, type Harness } from './harness.js';

describe('decideRoute: the card path without an agent', () => {
  const has = (n: string) => n === 'echo';
  it('is refused with reason card_without_agent and a message naming the fix', () => {
    for (const card of ['agent-card.json', 'agent.json']) {
      const r = decideRoute(`/a2a/.well-known/${card}`, 'GET', has);
      expect(r).toMatchObject({ kind: 'error', status: 404, reason: 'card_without_agent' });
      expect(r.kind === 'error' && r.message).toContain('trailing slash');
      expect(r.kind === 'error' && r.message).toContain(`/a2a/<agent>/.well-known/${card}`);
    }
  });
  it('leaves the agent card and unknown agents as they were', () => {
    expect(decideRoute('/a2a/echo/.well-known/agent-card.json', 'GET', has)).toEqual({ kind: 'card', agent: 'echo' });
    expect(decideRoute('/a2a/other/.well-known/agent-card.json', 'GET', has)).toMatchObject({ reason: 'unknown_agent' });
  });
});

describe('through the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('answers /a2a/.well-known/agent-card.json with a JSON 404 that says to add the trailing slash', async () => {
    const r = await get(h.client(h.alice), `${h.base}/a2a/.well-known/agent-card.json`);
    expect(r.status).toBe(404);
    expect(r.json.error.data.reason).toBe('card_without_agent');
    expect(r.json.error.message).toMatch(/calling URL lacks the agent's trailing slash.*https:\/\/<gateway>\/a2a\/<agent>\//);
    expect(h.upstream.requests.length).toBe(0);
  });

  it('an SDK client given the URL without the slash fails on exactly that path', async () => {
    const fetchImpl = h.client(h.alice).fetch;
    const options = { transports: [new JsonRpcTransportFactory({ fetchImpl })], cardResolver: new DefaultAgentCardResolver({ fetchImpl }) };
    const clients = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, options));
    await expect(clients.createFromUrl(`${h.base}/a2a/echo`)).rejects.toThrow(/\/a2a\/\.well-known\/agent-card\.json.*404/);
  });
});
