/**
 * The story the demo plays, step by step, through the real gateway. Each step narrates as it goes and then
 * checks its outcome against the call log: a step that did not turn out as told fails the demo.
 */
import { shortName } from '../certs/spiffe-id.js';
import { BURST_SIZE, EDGE_LIMIT, USER_NAME } from './config.js';
import { DemoError } from './errors.js';
import type { Narrator } from './narrator.js';
import { clip } from './narrator.js';
import { partsText, sendRequest, textOf, type GatewayClients } from './agents/a2a.js';
import { callAgent, type CallLog, type CallRecord } from './agents/agent.js';
import { describeFailure, observe } from './agents/observe.js';
import type { RogueAgent } from './agents/rogue.js';

export const TOPIC = 'tidal energy';

export interface StoryCast {
  narrator: Narrator;
  log: CallLog;
  /** the user's (alice's) SDK clients (its own SVID, no delegation context: every request starts a root task) */
  user: GatewayClients;
  rogue: RogueAgent;
  now?: () => number;
}

/** A root task the user started, with the time window it started in (to find it in the gateway's graph). */
export interface UserTask {
  label: string;
  startedAfter: number;
  startedBefore: number;
}

export interface StoryResult {
  tasks: UserTask[];
  /** the task the gateway cut the loop in (from the 508's error data) */
  loop: { rootTaskId: string | undefined; cycle: string[]; closingEdge: string | undefined };
}

function expectStep(ok: boolean, step: string, what: string): void {
  if (!ok) throw new DemoError('story', `step "${step}" did not go as expected: ${what}`);
}

const find = (records: CallRecord[], from: string, to: string) => records.filter((r) => r.from === from && r.to === to);

export async function playStory(cast: StoryCast): Promise<StoryResult> {
  const { narrator: say, log, user } = cast;
  const now = cast.now ?? Date.now;
  const tasks: UserTask[] = [];
  const userTask = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t = { label, startedAfter: now(), startedBefore: 0 };
    tasks.push(t);
    try {
      return await fn();
    } finally {
      t.startedBefore = now();
    }
  };

  // 1. delegated work, with a streamed answer
  say.step(1, `${USER_NAME} (a user) asks for a brief: delegated work through the gateway, the answer streamed back`);
  let mark = log.mark();
  const request = `write a brief on ${TOPIC}`;
  say.call(USER_NAME, 'orchestrator', 'SendStreamingMessage', request);
  let chunks = 0;
  let finalState = '';
  const streamed = await userTask(request, () =>
    observe(async () => {
      const client = await user.client('orchestrator');
      for await (const ev of client.sendMessageStream(sendRequest(request))) {
        const p = ev.payload;
        if (p?.$case === 'artifactUpdate' && p.value.artifact) {
          chunks++;
          say.chunk(`chunk ${chunks}: '${clip(partsText(p.value.artifact.parts), 66)}'`);
        } else if (p?.$case === 'statusUpdate' && p.value.status) {
          finalState = String(p.value.status.state);
          const note = textOf(p.value.status.message);
          if (note) say.note(`orchestrator: ${note}`);
        } else if (p?.$case === 'message') {
          say.chunk(`message: '${clip(textOf(p.value))}'`);
          chunks++;
        }
      }
    }),
  );
  const completed = finalState === '3' || finalState === 'TASK_STATE_COMPLETED';
  if (streamed.ok)
    say.ok(
      `stream complete: ${chunks} chunks, task ${completed ? 'completed' : `ended in state ${finalState || '?'}`} (HTTP ${streamed.info.status}, orchestrator's cost ${streamed.info.cost ?? '?'} USD)`,
    );
  else say.refused(`stream failed: ${describeFailure(streamed.failure)}`);
  const s1 = log.since(mark);
  expectStep(
    streamed.ok && completed && chunks >= 2,
    'delegated work',
    streamed.ok ? `the stream ended with ${chunks} chunks in state ${finalState}` : describeFailure(streamed.failure),
  );
  expectStep(
    find(s1, 'orchestrator', 'researcher').some((r) => r.ok) && find(s1, 'orchestrator', 'writer').some((r) => r.ok),
    'delegated work',
    'the orchestrator did not reach both the researcher and the writer',
  );

  // 2. a rogue agent
  say.step(2, 'A rogue agent (valid SVID, no policy rule) calls the writer directly');
  const attack = await cast.rogue.attack();
  expectStep(
    !attack.ok && attack.failure.status === 403,
    'rogue agent',
    attack.ok ? 'the writer answered the rogue' : `expected 403, got ${describeFailure(attack.failure)}`,
  );

  // 3. a burst
  say.step(3, `A burst of ${BURST_SIZE} calls trips the per-edge rate limit (perEdge: burst ${EDGE_LIMIT.burst}, ${EDGE_LIMIT.rps}/s)`);
  mark = log.mark();
  const surveyText = `survey ${BURST_SIZE} sources on ${TOPIC}`;
  await userTask(surveyText, () => callAgent(cast, user, USER_NAME, 'orchestrator', surveyText));
  const burst = find(log.since(mark), 'orchestrator', 'researcher');
  const limited = burst.filter((r) => r.failure?.status === 429);
  expectStep(
    limited.length > 0 && burst.some((r) => r.ok),
    'burst',
    `expected some calls answered and some refused with 429, got ${burst.filter((r) => r.ok).length} answered, ${limited.length} refused`,
  );
  expectStep(
    limited.every((r) => Number(r.failure?.retryAfter) >= 1),
    'burst',
    'a 429 came without a Retry-After header',
  );

  // 4. the flaky agent's retry loop
  say.step(4, "A flaky sub-agent's retry calls the orchestrator again: a delegation loop");
  mark = log.mark();
  const figures = `check the figures on ${TOPIC}`;
  await userTask(figures, () => callAgent(cast, user, USER_NAME, 'orchestrator', figures));
  const retry = find(log.since(mark), 'flaky', 'orchestrator')[0];
  const f = retry?.failure;
  expectStep(
    f?.status === 508 && f.reason === 'loop',
    'retry loop',
    f ? `expected 508 loop, got ${describeFailure(f)}` : retry ? 'the retry went through' : 'the flaky agent never retried',
  );
  const cycle = Array.isArray(f!.data.cycle) ? (f!.data.cycle as string[]).map(shortName) : [];
  const edge = f!.data.closingEdge as { from?: string; to?: string } | undefined;
  const closingEdge = edge?.from && edge.to ? `${shortName(edge.from)} -> ${shortName(edge.to)}` : undefined;
  const rootTaskId = typeof f!.data.rootTaskId === 'string' ? f!.data.rootTaskId : undefined;
  say.note(
    `the gateway cut the loop at the first revisit: cycle ${cycle.join(' -> ') || '?'}${closingEdge ? `, closing edge ${closingEdge}` : ''}${rootTaskId ? `, task ${rootTaskId}` : ''}`,
  );

  return { tasks, loop: { rootTaskId, cycle, closingEdge } };
}
