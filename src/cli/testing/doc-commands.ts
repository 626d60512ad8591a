/**
 * The `thicket` commands a Markdown file shows: every line of a ```bash / ```sh block that runs the CLI
 * (`thicket …`, `npx thicket …`, `node bin/thicket.js …`, also after `&&`), split into words as a POSIX shell
 * would for the quoting the docs use (single and double quotes, `# comment` tails). Commands keep their block,
 * so a test can run a block's commands in order (a later one may use what an earlier one wrote).
 */
import { readFileSync } from 'node:fs';

export interface DocCommand {
  /** The command as written, from `thicket` on (an `npx ` / `node bin/thicket.js` prefix becomes `thicket`). */
  text: string;
  /** Its arguments after `thicket`, unquoted. */
  args: string[];
  /** 1-based line of the command in the file. */
  line: number;
}

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  commands: DocCommand[];
}

const CLI_PREFIX = /^(?:npx\s+thicket|thicket|node\s+bin\/thicket\.js)(?=\s|$)/;

/** Shell words of `text` up to an unquoted `#` comment (no variables, globs or escapes beyond `\"` in "…"). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char === "'" || char === '"') {
      const close = text.indexOf(char, index + 1);
      if (close < 0) throw new Error(`unterminated ${char} in: ${text}`);
      const quoted = text.slice(index + 1, close);
      current = (current ?? '') + (char === '"' ? quoted.replace(/\\(["\\$`])/g, '$1') : quoted);
      index = close;
    } else if (/\s/.test(char)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else if (char === '#' && current === undefined) break;
    else current = (current ?? '') + char;
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** Splits a line on unquoted `&&`. */
function segments(line: string): string[] {
  const out: string[] = [];
  let quote: string | undefined;
  let start = 0;
  let end = line.length;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(line[index - 1] as string))) {
      end = index;
      break;
    } else if (char === '&' && line[index + 1] === '&') {
      out.push(line.slice(start, index));
      start = index + 2;
      index++;
    }
  }
  out.push(line.slice(start, end));
  return out.map((segment) => segment.trim()).filter((segment) => segment.length > 0);
}

export function docBlocks(markdown: string, file: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  let open: DocBlock | undefined;
  let inOtherFence = false;
  markdown.split('\n').forEach((raw, index) => {
    const fence = /^\s*```\s*([\w-]*)\s*$/.exec(raw);
    if (fence) {
      if (open) {
        if (open.commands.length > 0) blocks.push(open);
        open = undefined;
      } else if (inOtherFence) inOtherFence = false;
      else if (fence[1] === 'bash' || fence[1] === 'sh' || fence[1] === 'shell') open = { file, line: index + 1, commands: [] };
      else inOtherFence = true;
      return;
    }
    if (!open) return;
    for (const segment of segments(raw)) {
      const prefix = CLI_PREFIX.exec(segment);
      if (!prefix) continue;
      const rest = segment.slice(prefix[0].length).trim();
      const args = shellWords(rest);
      // The command as a reader would type it (its comment is cut off by segments()), one spelling of the binary.
      open.commands.push({ text: rest.length > 0 ? `thicket ${rest}` : 'thicket', args, line: index + 1 });
    }
  });
  return blocks;
}

export function docBlocksOf(path: string, file = path): DocBlock[] {
  return docBlocks(readFileSync(path, 'utf8'), file);
}
