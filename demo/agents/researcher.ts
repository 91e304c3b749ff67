/** The researcher: answers a topic with (made-up) sources. Costs 0.02 USD per call. */
import { COST } from '../config.js';
import { replyExecutor, startDemoAgent, type AgentDeps, type DemoAgent } from './agent.js';

export function startResearcher(deps: AgentDeps): Promise<DemoAgent> {
  return startDemoAgent(deps, {
    name: 'researcher',
    description: 'finds sources on a topic',
    cost: COST.researcher,
    executor: () =>
      replyExecutor((text) => {
        const topic = text.replace(/^find sources on\s*/i, '') || 'the topic';
        return `3 sources on ${topic}: a 2024 field survey, an operator's annual report, a review article`;
      }),
  });
}
