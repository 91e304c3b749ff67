/**
 * The flaky sub-agent. Its data source fails (a simulated transient error), and its retry logic hands the
 * task back to whoever can do it, the orchestrator, which will call the flaky agent again: a delegation loop.
 * The gateway cuts it at the first revisit (508, naming the cycle); the agent then gives up cleanly.
 */
import { COST } from '../config.js';
import { callAgent, replyExecutor, startDemoAgent, type AgentDeps, type DemoAgent } from './agent.js';

export function startFlaky(deps: AgentDeps): Promise<DemoAgent> {
  return startDemoAgent(deps, {
    name: 'flaky',
    description: 'checks figures (its data source is unreliable)',
    cost: COST.flaky,
    executor: (clients) =>
      replyExecutor(async (text) => {
        deps.narrator.fault('flaky: transient error (simulated): the figures service timed out; retrying via the orchestrator');
        const retry = await callAgent(deps, clients, 'flaky', 'orchestrator', `retry: ${text}`);
        if (retry.ok) return `figures checked on retry: ${retry.value}`;
        return `could not ${text}: transient error, and the retry was refused (${retry.failure.status ?? '—'} ${retry.failure.reason})`;
      }),
  });
}
