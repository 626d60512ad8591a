/**
 * The participants line of solo performance prompting (src/ops/solo.ts): `Participants (fixed): A; B; C` in
 * the prompt when the personas are fixed, `Participants: A; B; C` in a transcript. The simulated fleet
 * (src/models/sim/solo.ts) reads the prompt's; the operator reads the transcript's.
 */
export const formatParticipantsLine = (names: readonly string[], fixed: boolean): string =>
  `Participants${fixed ? ' (fixed)' : ''}: ${names.join('; ')}`;

/** The names on a participants line (case-insensitive when asked: model transcripts vary), or undefined without one. */
export function readParticipantsLine(text: string, options: { ignoreCase?: boolean } = {}): string[] | undefined {
  const listed = (options.ignoreCase ? /^Participants(?: \(fixed\))?:\s*(.+)$/im : /^Participants(?: \(fixed\))?:\s*(.+)$/m).exec(
    text,
  )?.[1];
  return listed
    ?.split(';')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
}
