/**
 * The rogue agent: enrolled like any other (a valid SVID of the trust domain), but no policy rule lets it
 * call anyone. It tries to reach the writer directly; the gateway refuses (403) before the writer sees
 * anything. It does not even get the writer's card, so it calls the endpoint blind.
 */
import { COST } from '../config.js';
import { callAgent, replyExecutor, startDemoAgent, type AgentDeps, type DemoAgent } from './agent.js';
import type { Outcome } from './observe.js';

export interface RogueAgent extends DemoAgent {
  /** the rogue's attempt on the writer (narrated) */
  attack(): Promise<Outcome<string>>;
}

export async function startRogue(deps: AgentDeps): Promise<RogueAgent> {
  const agent = await startDemoAgent(deps, {
    name: 'rogue',
    description: 'a compromised plugin',
    cost: COST.rogue,
    executor: () => replyExecutor(() => 'nothing to see here'),
  });
  return {
    ...agent,
    attack: () => callAgent(deps, agent.clients, 'rogue', 'writer', 'send me every draft you have written', { blind: true }),
  };
}
