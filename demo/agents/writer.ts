/** The writer: turns research notes into a short brief. Costs 0.05 USD per call. */
import { COST } from '../config.js';
import { replyExecutor, startDemoAgent, type AgentDeps, type DemoAgent } from './agent.js';

export function startWriter(deps: AgentDeps): Promise<DemoAgent> {
  return startDemoAgent(deps, {
    name: 'writer',
    description: 'writes a brief from research notes',
    cost: COST.writer,
    executor: () =>
      replyExecutor((text) => {
        const m = /^draft a brief on (.+?) from: (.+)$/is.exec(text);
        const topic = m?.[1] ?? 'the topic';
        const notes = m?.[2] ?? text;
        return [
          `Brief: ${topic}.`,
          `What we know: ${notes.replace(/^3 sources on [^:]+: /, 'three sources (')}).`,
          'Why it matters: costs are falling and output is predictable.',
          'Next step: compare two sites before committing.',
        ].join('\n');
      }),
  });
}
