/**
 * The orchestrator: takes a user's request and delegates, always through the gateway.
 *
 *   "write a brief on X"      researcher (sources) -> writer (draft) -> the brief streamed back in chunks
 *   "survey N sources on X"   N researcher calls at once (the burst the per-edge rate limit trips)
 *   "check the figures on X"  hands it to the flaky sub-agent
 *   "double-check the figures on X"  the same, narrowed (tollgate-scope agents=researcher): the flaky agent
 *                             may pass it on to the researcher only
 *   "retry: …"                what the flaky agent sends back: treated as the request again (the loop)
 */
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { TaskState } from '@a2a-js/sdk';
import { COST } from '../config.js';
import { agentMessage, textOf, textPart, type GatewayClients } from './a2a.js';
import { callAgent, startDemoAgent, type AgentDeps, type DemoAgent } from './agent.js';
import { describeFailure } from './observe.js';
import { withScope } from '../../agent-bootstrap/index.js';

const CHUNK_DELAY_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startOrchestrator(deps: AgentDeps): Promise<DemoAgent> {
  return startDemoAgent(deps, {
    name: 'orchestrator',
    description: 'plans the work and delegates it',
    cost: COST.orchestrator,
    streaming: true,
    executor: (clients) => orchestratorExecutor(deps, clients),
  });
}

function orchestratorExecutor(deps: AgentDeps, clients: GatewayClients): AgentExecutor {
  const ask = (to: string, text: string) => callAgent(deps, clients, 'orchestrator', to, text);

  const status = (rc: RequestContext, state: TaskState, text?: string) =>
    AgentEvent.statusUpdate({
      taskId: rc.taskId,
      contextId: rc.contextId,
      status: { state, timestamp: new Date().toISOString(), message: text === undefined ? undefined : agentMessage(text, rc) },
      metadata: undefined,
    });

  async function brief(topic: string, rc: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(
      AgentEvent.task({
        id: rc.taskId,
        contextId: rc.contextId,
        status: { state: TaskState.TASK_STATE_WORKING, timestamp: new Date().toISOString(), message: undefined },
        artifacts: [],
        history: [rc.userMessage],
        metadata: undefined,
      }),
    );
    const notes = await ask('researcher', `find sources on ${topic}`);
    if (!notes.ok) {
      bus.publish(status(rc, TaskState.TASK_STATE_FAILED, `research failed: ${notes.failure.message}`));
      return;
    }
    const draft = await ask('writer', `draft a brief on ${topic} from: ${notes.value}`);
    if (!draft.ok) {
      bus.publish(status(rc, TaskState.TASK_STATE_FAILED, `writing failed: ${draft.failure.message}`));
      return;
    }
    // Stream the brief a line at a time, as a long answer would arrive.
    const lines = draft.value.split('\n');
    for (const [i, line] of lines.entries()) {
      await sleep(CHUNK_DELAY_MS);
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId: rc.taskId,
          contextId: rc.contextId,
          artifact: {
            artifactId: 'brief',
            name: 'brief',
            description: `brief on ${topic}`,
            parts: [textPart(`${line}\n`)],
            metadata: undefined,
            extensions: [],
          },
          append: i > 0,
          lastChunk: i === lines.length - 1,
          metadata: undefined,
        }),
      );
    }
    bus.publish(status(rc, TaskState.TASK_STATE_COMPLETED));
  }

  async function survey(n: number, topic: string): Promise<string> {
    deps.narrator.call('orchestrator', 'researcher', `${n} × SendMessage at once`, `find sources on ${topic} (#1..#${n})`);
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => callAgent(deps, clients, 'orchestrator', 'researcher', `find sources on ${topic} (#${i + 1})`, { quiet: true })),
    );
    const answered = outcomes.filter((o) => o.ok).length;
    deps.narrator.ok(`${answered} answered (200, cost ${COST.researcher} USD each)`);
    // one line per distinct refusal
    const refusals = new Map<string, { count: number; byGateway: boolean }>();
    for (const o of outcomes) {
      if (o.ok) continue;
      const line = describeFailure(o.failure);
      const r = refusals.get(line) ?? { count: 0, byGateway: o.failure.reason !== 'error' };
      r.count++;
      refusals.set(line, r);
    }
    for (const [line, r] of refusals) deps.narrator.refused(`${r.count} ${r.byGateway ? 'refused by the gateway' : 'failed'}: ${line}`);
    return `surveyed ${answered} of ${n} sources on ${topic}; ${n - answered} calls were refused`;
  }

  async function checkFigures(text: string): Promise<string> {
    const r = await ask('flaky', text);
    return r.ok ? r.value : `the figures could not be checked: ${r.failure.message}`;
  }

  /** Attenuation: the flaky agent may pass this one on to the researcher only (the gateway signs it into its context). */
  async function doubleCheck(text: string): Promise<string> {
    deps.narrator.note('orchestrator narrows what the flaky agent may pass on: tollgate-scope: agents=researcher');
    return withScope({ agents: ['researcher'] }, () => checkFigures(text));
  }

  return {
    async execute(rc: RequestContext, bus: ExecutionEventBus) {
      const text = textOf(rc.userMessage).replace(/^retry:\s*/i, '');
      const briefOn = /^write a brief on (.+)$/i.exec(text);
      if (briefOn) {
        await brief(briefOn[1], rc, bus).catch((e: unknown) =>
          bus.publish(status(rc, TaskState.TASK_STATE_FAILED, e instanceof Error ? e.message : String(e))),
        );
        bus.finished();
        return;
      }
      const surveyOf = /^survey (\d+) sources on (.+)$/i.exec(text);
      const figures = /^check the figures on (.+)$/i.exec(text);
      const doubleCheckOf = /^double-check the figures on (.+)$/i.exec(text);
      let answer: string;
      try {
        if (surveyOf) answer = await survey(Math.min(Number(surveyOf[1]), 100), surveyOf[2]);
        else if (figures) answer = await checkFigures(text);
        else if (doubleCheckOf) answer = await doubleCheck(text);
        else answer = 'I can: "write a brief on X", "survey N sources on X", "check the figures on X", "double-check the figures on X"';
      } catch (e) {
        answer = `error: ${(e as Error).message}`;
      }
      bus.publish(AgentEvent.message(agentMessage(answer, { contextId: rc.contextId })));
      bus.finished();
    },
    async cancelTask() {},
  };
}
