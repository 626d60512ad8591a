/**
 * debate — multi-agent debate (Du et al., arXiv 2305.14325): n agents × r rounds over a topology.
 * Round 0: every agent answers on its own (parallel calls). Round k: every agent sees its neighbours'
 * previous answers (and its own history) and answers again. The result is the majority of the last round
 * (or a judge's verdict over it). Rounds count round 0, so Du et al.'s "3 agents × 2 rounds" is 6 calls.
 *
 * Neighbours' answers go into the prompt as claims; that is where persuasion and error propagation come
 * from (on the sim: its context bonus/penalty and copying of wrong claims).
 *
 * Budget: each agent spends from its own child budget (equal shares of the slice, after a judge reserve),
 * tagged with its name. The plan (agents × rounds) is chosen up front to fit an estimate; before each round
 * the exact worst case of all its calls is checked, and the debate stops early rather than being refused.
 * Degradations are recorded. `mode: 'solo'` runs the same spec as one SPP call (`debateAsSolo`).
 */
import { BudgetExhaustedError, ThicketError, costOf, normalizeAnswer } from '../core/index.ts';
import type { Amount, Budget, BudgetLimits } from '../budget/index.ts';
import type { ChatMessage } from '../models/index.ts';
import { childContext, type OpContext, type OpResult } from './context.ts';
import { generate } from './generate.ts';
import { addAmounts, budgetCovers, callWorstCase, degrade, solo, type SoloOptions } from './solo.ts';

export type DebateTopology = 'all-to-all' | 'ring' | 'star';

export interface DebateAgent {
  name: string;
  /** System-prompt persona ("You are …"). */
  persona?: string;
  model?: string;
}

export interface DebateOptions {
  question: string;
  /** A count (named agent-A, agent-B, …) or the agents themselves (default 3). */
  agents?: number | Array<string | DebateAgent>;
  /** Rounds including the independent round 0 (default 2). */
  rounds?: number;
  topology?: DebateTopology;
  /** Final aggregation over the last round (default majority). */
  aggregate?: 'majority' | 'judge';
  judgeModel?: string;
  model?: string;
  /** Per agent call (default 512). */
  maxOutputTokens?: number;
  temperature?: number;
  system?: string;
  /** `solo` compiles the spec into one SPP call instead (default `multi`). */
  mode?: 'multi' | 'solo';
}

const ANSWER_FORMAT = "Reason step by step, then give the final answer alone on the last line as 'Answer: <value>'.";
const DEFAULT_AGENTS = 3;
const DEFAULT_ROUNDS = 2;
const DEFAULT_MAX_OUTPUT = 512;

/** Who each agent hears from: all others; its two ring neighbours; the hub (agent 0) hears all, spokes hear the hub. */
export function neighbours(topology: DebateTopology, count: number): number[][] {
  return Array.from({ length: count }, (_, agent) => {
    let heard: number[];
    if (topology === 'ring') heard = [(agent + count - 1) % count, (agent + 1) % count];
    else if (topology === 'star') heard = agent === 0 ? Array.from({ length: count - 1 }, (_, index) => index + 1) : [0];
    else heard = Array.from({ length: count }, (_, index) => index);
    return [...new Set(heard)].filter((other) => other !== agent).sort((a, b) => a - b);
  });
}

function resolveAgents(options: DebateOptions): DebateAgent[] {
  const spec = options.agents ?? DEFAULT_AGENTS;
  if (typeof spec === 'number')
    return Array.from({ length: Math.max(1, Math.floor(spec)) }, (_, index) => ({
      name: `agent-${String.fromCharCode(65 + (index % 26))}${index >= 26 ? Math.floor(index / 26) : ''}`,
    }));
  return spec.map((agent) => (typeof agent === 'string' ? { name: agent } : agent));
}

/** The same spec as one Solo Performance Prompting call: agents become personas, rounds SPP rounds. */
export function debateAsSolo(options: DebateOptions): SoloOptions {
  const agents = resolveAgents(options);
  const rounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS));
  const perCall = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT;
  return {
    question: options.question,
    personas: agents.map((agent) => (agent.persona ? { name: agent.name, description: agent.persona } : { name: agent.name })),
    maxPersonas: agents.length,
    maxRounds: rounds,
    structured: true,
    // A transcript holds every persona's turn of every round; turns are shorter than full answers.
    maxOutputTokens: Math.min(4096, Math.max(512, Math.round((agents.length * rounds * perCall) / 2))),
    ...(options.model !== undefined ? { model: options.model } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.system !== undefined ? { system: options.system } : {}),
  };
}

interface Turn {
  text: string;
  answer: string | undefined;
  normalized: string | undefined;
  nodeId: string | undefined;
}

export async function debate(context: OpContext, options: DebateOptions): Promise<OpResult> {
  if (options.mode === 'solo') {
    const result = await solo(context, { ...debateAsSolo(options), step: 'debate-solo' });
    return {
      ...result,
      details: { ...result.details, mode: 'solo', compiledFrom: 'debate', agents: resolveAgents(options).map((agent) => agent.name) },
    };
  }
  const stepId = `${context.stepId}/debate`;
  const topology = options.topology ?? 'all-to-all';
  const requestedAgents = resolveAgents(options);
  const requestedRounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS));
  const maxOutputTokens = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT;
  const modelOf = (agent: DebateAgent): string => agent.model ?? options.model ?? context.model;
  const degraded: string[] = [];
  let budgetExhausted = false;
  let simulated = false;
  let calls = 0;
  context.trace.event(stepId, 'op-start', { operator: 'debate', topology, agents: requestedAgents.length, rounds: requestedRounds });
  const query = context.trace.addNode(stepId, 'query', options.question);

  const base = (agent: DebateAgent): ChatMessage[] => [
    ...(agent.persona || options.system
      ? [
          {
            role: 'system' as const,
            content: [agent.persona ? `You are ${agent.persona}.` : '', options.system ?? ''].filter((part) => part).join('\n'),
          },
        ]
      : []),
    { role: 'user', content: `${options.question}\n\n${ANSWER_FORMAT}` },
  ];
  const judgeModel = options.judgeModel ?? options.model ?? context.model;
  const judgeMessages = (answers: string[]): ChatMessage[] => [
    { role: 'system', content: 'You judge a debate: weigh the final answers of the agents and decide which is right.' },
    { role: 'user', content: `${answers.join('\n\n')}\n\nThe question was: ${options.question}\n${ANSWER_FORMAT}` },
  ];
  const judgeReserve = (): Amount =>
    options.aggregate === 'judge'
      ? callWorstCase(
          context,
          judgeModel,
          judgeMessages(requestedAgents.map((agent) => `${agent.name}: ${'x '.repeat(maxOutputTokens)}`)),
          maxOutputTokens,
        )
      : { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 };

  // Plan the number of agents. A debate needs an exchange, so first the most agents (≥ 2) whose rounds 0 and
  // 1 fit the estimate; else the most agents whose independent round 0 fits (a vote). Later rounds then run
  // while the exact worst case of the next round still fits. A lone agent left from a larger spec does not
  // debate itself (self-reflection tends to hurt: Du et al.).
  const round0 = requestedAgents.map((agent) => callWorstCase(context, modelOf(agent), base(agent), maxOutputTokens));
  const reserve = judgeReserve();
  const fits = (n: number, rounds: number): boolean => {
    const heard = neighbours(topology, n);
    const estimates = Array.from({ length: rounds }, (_, k) =>
      round0
        .slice(0, n)
        .map((first, agent) =>
          estimateRound(
            context,
            modelOf(requestedAgents[agent] as DebateAgent),
            first,
            k,
            (heard[agent] as number[]).length,
            maxOutputTokens,
            k === rounds - 1,
          ),
        ),
    );
    return budgetCovers(context.budget, addAmounts(reserve, ...estimates.flat()));
  };
  let planned = 0;
  if (requestedRounds > 1) for (let n = requestedAgents.length; n >= 2 && planned === 0; n--) if (fits(n, 2)) planned = n;
  for (let n = requestedAgents.length; n >= 1 && planned === 0; n--) if (fits(n, 1)) planned = n;
  if (planned === 0) {
    degrade(context, stepId, degraded, 'no agent turn is affordable');
    return {
      answer: undefined,
      confidence: undefined,
      text: '',
      nodeId: undefined,
      calls: 0,
      degraded,
      budgetExhausted: true,
      simulated: false,
      details: { operator: 'debate', mode: 'multi', topology, agents: [], roundsPlanned: requestedRounds, roundsRun: 0, rounds: [] },
    };
  }
  if (planned < requestedAgents.length) degrade(context, stepId, degraded, `agents ${requestedAgents.length} → ${planned}`);
  const lone = planned === 1 && requestedAgents.length > 1 && requestedRounds > 1;
  if (lone) degrade(context, stepId, degraded, `rounds ${requestedRounds} → 1`);
  const plan = { agents: planned, rounds: lone ? 1 : requestedRounds };

  const agents = requestedAgents.slice(0, plan.agents);
  const heard = neighbours(topology, agents.length);
  const budgets = carve(context.budget, agents, reserve);
  const histories = agents.map((agent) => base(agent));
  const latest: Array<Turn | undefined> = agents.map(() => undefined);
  const rounds: Array<{ answers: Record<string, string | null>; agreement: number; majority: string | undefined }> = [];

  const roundCap = maxOutputTokens;
  let longestOutput = 0;
  for (let k = 0; k < plan.rounds; k++) {
    const prompts = agents.map((_, index) =>
      k === 0
        ? [...(histories[index] as ChatMessage[])]
        : [...(histories[index] as ChatMessage[]), ...followUp(agents, heard[index] as number[], latest, options.question)],
    );
    // The round's calls reserve concurrently: all of them must fit, each in its agent's budget.
    const roundFits = (cap: number): boolean => {
      const worst = agents.map((agent, index) => callWorstCase(context, modelOf(agent), prompts[index] as ChatMessage[], cap));
      return (
        worst.every((amount, index) => budgetCovers(budgets[index] as Budget, amount)) &&
        budgetCovers(context.budget, addAmounts(reserve, ...worst))
      );
    };
    let cap = roundCap;
    if (k > 0 && !roundFits(cap)) {
      // Before dropping the round, try a smaller output cap that still covers the longest answer seen so far.
      const floor = Math.max(64, Math.ceil(longestOutput * 1.15));
      cap = Math.min(
        cap,
        ...agents.map((agent, index) =>
          affordableOutput(context, budgets[index] as Budget, modelOf(agent), prompts[index] as ChatMessage[]),
        ),
      );
      if (cap < floor || !roundFits(cap)) {
        degrade(context, stepId, degraded, `rounds ${plan.rounds} → ${k}`);
        break;
      }
      degrade(context, stepId, degraded, `round ${k}: max output tokens ${roundCap} → ${cap}`);
    }
    const previous = [...latest];
    await Promise.all(
      agents.map(async (agent, index) => {
        const sources =
          k === 0
            ? [query]
            : [previous[index], ...(heard[index] as number[]).map((other) => previous[other])]
                .map((turn) => turn?.nodeId)
                .filter((id): id is string => id !== undefined);
        try {
          const outcome = await generate(childContext(context, agent.name, { budget: budgets[index] as Budget }), {
            step: `round-${k}`,
            model: modelOf(agent),
            messages: prompts[index] as ChatMessage[],
            maxOutputTokens: cap,
            temperature: options.temperature ?? 0.7,
            purpose: 'answer',
            operator: 'debate',
            axis: 'agents',
            agent: agent.name,
            derivedFrom: sources,
          });
          calls++;
          simulated ||= outcome.call.simulated;
          longestOutput = Math.max(longestOutput, outcome.call.usage.outputTokens);
          latest[index] = { text: outcome.text, answer: outcome.answer, normalized: outcome.normalized, nodeId: outcome.nodeId };
          // Du et al. keep each agent's whole conversation: its prompts and its own answers.
          histories[index] = [...(prompts[index] as ChatMessage[]), { role: 'assistant', content: outcome.text }];
        } catch (error) {
          if (ThicketError.isInstance(error) && error.category === 'cancelled') throw error;
          // The agent keeps its previous answer; the debate goes on without this turn.
          if (error instanceof BudgetExhaustedError) budgetExhausted = true;
          context.trace.event(stepId, 'note', {
            agent: agent.name,
            round: k,
            failed: ThicketError.isInstance(error) ? error.code : String(error),
          });
        }
      }),
    );
    if (latest.every((turn) => turn === undefined)) break;
    const vote = majority(latest);
    rounds.push({
      answers: Object.fromEntries(agents.map((agent, index) => [agent.name, latest[index]?.normalized ?? null])),
      agreement: vote.agreement,
      majority: vote.normalized,
    });
  }
  if (budgetExhausted) degrade(context, stepId, degraded, 'some agent turns were refused by the budget');

  const vote = majority(latest);
  let answer = vote.answer;
  let text = latest.find((turn) => turn?.normalized === vote.normalized)?.text ?? '';
  let nodeId: string | undefined;
  const finals = latest.map((turn) => turn?.nodeId).filter((id): id is string => id !== undefined);
  if (options.aggregate === 'judge' && finals.length > 0) {
    try {
      const judged = await generate(context, {
        step: 'judge',
        model: judgeModel,
        messages: judgeMessages(agents.flatMap((agent, index) => (latest[index] ? [`${agent.name}: ${latest[index].text}`] : []))),
        maxOutputTokens,
        purpose: 'answer',
        operator: 'debate',
        axis: 'agents',
        agent: 'judge',
        node: 'verdict',
        derivedFrom: finals,
      });
      calls++;
      if (judged.answer !== undefined) ({ answer, text, nodeId } = { answer: judged.answer, text: judged.text, nodeId: judged.nodeId });
    } catch (error) {
      if (ThicketError.isInstance(error) && error.category === 'cancelled') throw error;
      degrade(context, stepId, degraded, 'judge call failed: majority of the last round');
    }
  }
  if (nodeId === undefined && answer !== undefined) {
    nodeId = context.trace.addNode(stepId, 'conclusion', `majority: ${answer}`, normalizeAnswer(answer));
    context.trace.derive(nodeId, finals);
  }
  context.trace.event(stepId, 'op-end', { operator: 'debate', answer, calls, rounds: rounds.length });
  return {
    answer,
    confidence: vote.agreement,
    text,
    nodeId,
    calls,
    degraded,
    budgetExhausted,
    simulated,
    details: {
      operator: 'debate',
      mode: 'multi',
      topology,
      agents: agents.map((agent) => agent.name),
      neighbours: heard,
      roundsPlanned: requestedRounds,
      roundsRun: rounds.length,
      rounds,
      votes: vote.votes,
      aggregate: options.aggregate ?? 'majority',
    },
  };
}

/** The round-k user turn (Du et al.'s wording, shortened): the neighbours' latest answers, then the question again. */
function followUp(agents: DebateAgent[], heard: number[], latest: Array<Turn | undefined>, question: string): ChatMessage[] {
  const others = heard
    .map((other) => (latest[other] ? `${(agents[other] as DebateAgent).name}: ${latest[other].text}` : undefined))
    .filter((line): line is string => line !== undefined);
  const content =
    others.length > 0
      ? `These are the recent answers of the agents you talk to:\n\n${others.join('\n\n')}\n\nUse their reasoning as additional advice: examine ` +
        `your answer and theirs step by step, then give an updated answer. The question is: ${question}\n${ANSWER_FORMAT}`
      : `Review your previous answer step by step and give an updated answer. The question is: ${question}\n${ANSWER_FORMAT}`;
  return [{ role: 'user', content }];
}

/**
 * Planning estimate for round k of one agent: its round-0 prompt plus, per earlier round, its own answer,
 * its neighbours' answers and the instructions, answers assumed at half the output cap. Earlier rounds are
 * counted at their expected spend (half the cap of output); the last planned round at its full reservation,
 * since its calls reserve concurrently. The exact worst case is checked again before each round.
 */
function estimateRound(
  context: OpContext,
  model: string,
  first: Amount,
  k: number,
  degree: number,
  maxOutputTokens: number,
  last: boolean,
): Amount {
  const profile = context.fleet.model(model).profile;
  const answer = Math.ceil(maxOutputTokens / 2);
  const inputTokens = first.inputTokens + k * ((degree + 1) * (answer + 8) + 80);
  const outputTokens = last ? first.outputTokens : Math.min(first.outputTokens, answer);
  return {
    inputTokens,
    outputTokens,
    usd: costOf(
      { inputTokens, outputTokens },
      { inputPerMillion: profile.priceInputPerMillion, outputPerMillion: profile.priceOutputPerMillion },
    ),
    calls: 1,
  };
}

/** Output tokens a call with this prompt can still reserve in `budget` (prompt counted as the fleet will). */
function affordableOutput(context: OpContext, budget: Budget, model: string, messages: ChatMessage[]): number {
  const profile = context.fleet.model(model).profile;
  const input = callWorstCase(context, model, messages, 0).inputTokens;
  return budget.maxAffordableOutputTokens(input, {
    inputPerMillion: profile.priceInputPerMillion,
    outputPerMillion: profile.priceOutputPerMillion,
  });
}

/** Equal child budgets for the agents over what remains after the judge reserve. */
function carve(parent: Budget, agents: DebateAgent[], reserve: Amount): Budget[] {
  const room = parent.remaining();
  const share = (value: number, minus: number, integer: boolean): number | undefined => {
    if (!Number.isFinite(value)) return undefined;
    const each = Math.max(0, value - minus) / agents.length;
    return integer ? Math.floor(each) : each;
  };
  const limits: BudgetLimits = {};
  const entries: Array<[keyof BudgetLimits, number | undefined]> = [
    ['inputTokens', share(room.inputTokens, reserve.inputTokens, true)],
    ['outputTokens', share(room.outputTokens, reserve.outputTokens, true)],
    ['totalTokens', share(room.totalTokens, reserve.inputTokens + reserve.outputTokens, true)],
    ['usd', share(room.usd, reserve.usd, false)],
    ['calls', share(room.calls, reserve.calls, true)],
  ];
  for (const [key, value] of entries) if (value !== undefined) limits[key] = value;
  return agents.map((agent) => parent.child(agent.name, { limits }));
}

function majority(turns: Array<Turn | undefined>): {
  answer: string | undefined;
  normalized: string | undefined;
  agreement: number;
  votes: Record<string, number>;
} {
  const votes: Record<string, number> = {};
  let best: Turn | undefined;
  for (const turn of turns) {
    if (turn?.normalized === undefined) continue;
    votes[turn.normalized] = (votes[turn.normalized] ?? 0) + 1;
    // A tie keeps the answer that reached the count first (agents in order): deterministic.
    if (!best || (votes[turn.normalized] as number) > (votes[best.normalized as string] as number)) best = turn;
  }
  const answered = Object.values(votes).reduce((sum, count) => sum + count, 0);
  return {
    answer: best?.answer,
    normalized: best?.normalized,
    agreement: best ? (votes[best.normalized as string] as number) / answered : 0,
    votes,
  };
}
