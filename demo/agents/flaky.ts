/**
 * The flaky sub-agent. Its data source fails (a simulated transient error), and its retry logic hands the
 * task back to whoever can do it, the orchestrator, which will call the flaky agent again: a delegation loop.
 * The gateway cuts it at the first revisit (508, naming the cycle); the agent then gives up cleanly.
 * Asked to "double-check", it passes the work on to the writer instead (which its policy allows, unless the
 * orchestrator narrowed what it may pass on: then 403 scope_exceeded).
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
        if (/^double-check/i.test(text)) {
          const handed = await callAgent(deps, clients, 'flaky', 'writer', `redo the figures table: ${text}`);
          return handed.ok ? `double-checked by the writer: ${handed.value}` : `could not ${text}: ${handed.failure.status ?? '—'} ${handed.failure.reason}`;
        }
        deps.narrator.fault('flaky: transient error (simulated): the figures service timed out; retrying via the orchestrator');
        const retry = await callAgent(deps, clients, 'flaky', 'orchestrator', `retry: ${text}`);
        if (retry.ok) return `figures checked on retry: ${retry.value}`;
        return `could not ${text}: transient error, and the retry was refused (${retry.failure.status ?? '—'} ${retry.failure.reason})`;
      }),
  });
}
