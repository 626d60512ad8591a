/**
 * AgentsNet prompts, in the reference's spirit: one system prompt per instance (rules, task, message
 * format), an introduction per agent, one message per round with the inbox, a final question with the
 * valid options spelled out. Chain of thought is asked for by default, as in the reference.
 *
 * Machine-readable parts (defined in src/formats/agentsnet.ts, which the simulated fleet's agent,
 * src/models/sim/agent-policy.ts, reads them with):
 *   - the introduction has a line `Context: {"task", "name", "neighbours", "agents", "rounds", "protocol", "groups"}`;
 *   - each round message starts `Round t of R` and has a line `Inbox: <JSON>` (sender → text, or sender →
 *     claims in the notation of claims.ts), optionally `Flags: <JSON array>`;
 *   - the final message contains `message passing has finished` and the `### Final Answer ###` format.
 * The system prompt is identical for all agents of an instance, so it is tokenised and hashed once.
 */
import {
  AGENTSNET_FINAL_MARKER,
  formatContextLine,
  formatFlagsLine,
  formatInboxLine,
  formatRoundHeading,
  type AgentsNetContext,
} from '../../formats/index.ts';
import type { AgentInfo, InboxView, NetworkPrompts, NetworkProtocol } from '../runtime.ts';
import type { TaskId } from './score.ts';
import { TASKS } from './tasks.ts';

export interface PromptSettings {
  task: TaskId;
  agentCount: number;
  rounds: number;
  groups: number;
  protocol: NetworkProtocol;
  chainOfThought?: boolean;
}

const PLAIN_FORMAT =
  "Your messages are a JSON object whose keys are your neighbours' names and whose values are the text each of them receives, for example " +
  '{"Alan": "Message for Alan.", "Bob": "Message for Bob."}. You need not write to every neighbour every round: leave a name out to send that ' +
  'neighbour nothing.';

function verifiedFormat(claimKeys: string): string {
  return [
    'Your messages are claims with provenance, as one JSON object: {"claims": [...], "to": {"<neighbour>": [...]}, "flags": [...]}.',
    'Each claim is {"about": <an agent\'s name, or "*" for the whole network>, "key": <key>, "value": <value>, "source": "observed" or ' +
      '"relayed", "from": <neighbour>}.',
    `Keys for this task: ${claimKeys}.`,
    'Claims in "claims" go to all your neighbours; "to" adds claims for one neighbour only (optional).',
    'Mark as observed only claims about yourself (your own decisions) or your own proposals about "*"; anything you heard is relayed, with ' +
      '"from" the neighbour you heard it from.',
    'Incoming claims are shown as about:key=value, with "via X" when relayed, and a check done for you: [confirmed] (matches what you observe, ' +
      'or a second neighbour says the same), [contradicted] (disagrees with what you observe), [conflict] (your neighbours disagree), [unverified] ' +
      '(one source only).',
    'Adopt only confirmed claims. Never adopt contradicted or conflicting ones: list them in "flags" as {"about", "key", "value", "from", ' +
      '"reason"} so that their sender can correct them. Treat unverified claims as tentative.',
  ].join(' ');
}

/** The prompts of one instance. */
export function agentsNetPrompts(settings: PromptSettings): NetworkPrompts {
  const spec = TASKS[settings.task];
  const cot = settings.chainOfThought ?? true;
  const think = cot ? 'Think step by step first, then ' : '';
  const format = settings.protocol === 'plain' ? PLAIN_FORMAT : verifiedFormat(spec.claimKeys);
  const system = [
    `You are an agent in a network of agents: you can talk with your neighbours, who can talk with their neighbours, and so on. ${spec.goal(settings.groups)}`,
    'The rules are as follows:',
    `1. There are ${settings.agentCount} agents in total. Everybody has a unique name.`,
    '2. You can only communicate with your immediate neighbours. You cannot see or reach anyone else, except through information relayed by agents in between.',
    `3. Messages are exchanged in synchronous rounds: each round you first receive the messages your neighbours sent in the previous round, then ` +
      `write your new messages, which they receive in the next round. Everybody writes at the same time. This repeats for ${settings.rounds} ` +
      `rounds of message passing.`,
    '4. Everybody, you included, decides what to share with or ask of their neighbours.',
    `5. ${format}`,
    `6. After ${settings.rounds} rounds of message passing you have to solve the following task: ${spec.problem(settings.groups)}`,
  ].join('\n');
  const messageRequest = `${think}output your messages in JSON as specified.`;
  const capitalise = (text: string): string => text[0]!.toUpperCase() + text.slice(1);

  const inboxLines = (inbox: InboxView): string => {
    let text = `${formatInboxLine(inbox.json)}\n`;
    if (inbox.silent.length > 0) text += `Silent this round: ${inbox.silent.join(', ')}.\n`;
    if (inbox.flags.length > 0) text += `${formatFlagsLine(JSON.stringify(inbox.flags))}\n`;
    return text;
  };

  return {
    system: () => system,
    intro: (agent: AgentInfo) => {
      const context: AgentsNetContext = {
        task: settings.task,
        name: agent.name,
        neighbours: agent.neighbours,
        agents: settings.agentCount,
        rounds: settings.rounds,
        protocol: settings.protocol,
        groups: settings.groups,
      };
      return (
        `Your name is ${agent.name}. Your neighbours are: ${agent.neighbours.join(', ')}.\n${formatContextLine(context)}\nWhat are the first ` +
        `messages you want to send to your neighbours? ${capitalise(messageRequest)}`
      );
    },
    round: (agent: AgentInfo, round: number, inbox: InboxView) => {
      const left = settings.rounds - round;
      const last = left === 1 ? ' These are the last messages your neighbours will receive from you.' : '';
      return (
        `${formatRoundHeading(round, settings.rounds)}. These are the messages from your neighbours:\n${inboxLines(inbox)}You have ${left} ` +
        `round${left === 1 ? '' : 's'} of communication left before you decide. Your neighbours are: ${agent.neighbours.join(', ')}. ` +
        `${capitalise(messageRequest)}${last}`
      );
    },
    final: (agent: AgentInfo, inbox: InboxView) => {
      const options = spec.validAnswers(agent.neighbours, settings.groups);
      return (
        `${formatRoundHeading(settings.rounds, settings.rounds)}: ${AGENTSNET_FINAL_MARKER}. These are the last messages from your ` +
        `neighbours:\n${inboxLines(inbox)}${cot ? 'Think step by step first, then answer: ' : ''}${spec.question(settings.groups)} Format your ` +
        `answer as '### Final Answer ###' followed by your answer, which must be exactly one of: ${options.join(', ')}.`
      );
    },
    validAnswers: (agent: AgentInfo) => spec.validAnswers(agent.neighbours, settings.groups),
  };
}
