/**
 * Content-addressed storage of request messages (schema v3). A chat re-sends its whole history on every call,
 * so storing each call's request whole costs O(R²) bytes per agent over R rounds (a 1,000-agent AgentsNet run
 * wrote 467 MB). Instead:
 *
 *   messages      (hash → json)              every distinct message once, keyed by the sha256 of its JSON
 *   message_lists (id → parent, message)     one row per distinct list PREFIX: the list [m0 … mi] is the row
 *                                            (id_i, id_{i-1}, hash(mi)) with id_i = sha256(id_{i-1} ":" hash(mi))
 *                                            (a hash chain), so equal lists share rows across calls, agents, runs
 *   calls.messages_list                      the id of the call's whole list; its request_json has
 *                                            `"messages":null` in the messages' place (NULL column: an older row,
 *                                            whose request_json still holds its messages inline)
 *
 * A call that extends the previous call's history by one message adds one message row and one list row. The
 * ids are computed incrementally (core `PrefixCache`, cached per message object: two hex strings per message,
 * no hash state kept), so recording a call hashes only its new messages. Rows are written in the call's own savepoint inside the group commit, so a call and
 * its messages are committed together or not at all; a node is remembered as stored only after its
 * transaction committed, so a rolled-back write is simply written again by the next call that needs it.
 */
import { JournalError, PrefixCache, sha256Hex, type PrefixNode } from '../core/index.ts';
import type { SqlDriver, SqlStatement } from './sql-driver.ts';

/** What the journal remembers about one list prefix (per Journal instance: "stored" is about its file). */
export interface ListNodeInfo {
  /** The list prefix's id (message_lists.id). */
  readonly id: string;
  /** sha256 of the last message's JSON (messages.hash). */
  readonly messageHash: string;
  /** The last message's JSON while not yet stored; dropped once committed. */
  json: string;
  stored: boolean;
}

export type ListNode = PrefixNode<ListNodeInfo>;

/** A request as stored: its JSON (messages replaced by null when referenced) and the list node, if any. */
export interface EncodedRequest {
  requestJson: string;
  /** The node of the request's last message (walk `parent` for the rest); undefined when stored inline. */
  list: ListNode | undefined;
}

type PlainMessage = Record<string, unknown>;

const LIST_ROOT = '';
/** Entries kept in `committed` (two per message): ~20 MB of hex strings at most. */
const COMMITTED_CAP = 200_000;

/**
 * What a cached list node must still match for a message's JSON to be unchanged: for a { role, content }
 * message, its key order and both values. NaN never equals itself, so a message of any other shape is never
 * trusted from the cache (always re-encoded, still stored by reference).
 */
function fieldsOf(message: PlainMessage): readonly unknown[] {
  const keys = Object.keys(message);
  const plain = keys.length === 2 && ((keys[0] === 'role' && keys[1] === 'content') || (keys[0] === 'content' && keys[1] === 'role'));
  if (!plain) return [Number.NaN];
  return [keys[0], message['role'], message['content']];
}

/** `fieldsOf(message)` still equal to `fields`, without allocating (this runs for every message of every call). */
function unchangedMessage(message: PlainMessage, fields: readonly unknown[]): boolean {
  if (fields.length !== 3 || fields[2] !== message['content'] || fields[1] !== message['role']) return false;
  let count = 0;
  let firstKey: string | undefined;
  for (const key in message) {
    if (!Object.hasOwn(message, key)) return false;
    if (count === 0) firstKey = key;
    count++;
  }
  return count === 2 && firstKey === fields[0];
}

function isMessageList(value: unknown): value is PlainMessage[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const item of value) if (typeof item !== 'object' || item === null || Array.isArray(item)) return false;
  return true;
}

export class MessageStore {
  private readonly lists = new PrefixCache<PlainMessage, ListNodeInfo>(
    fieldsOf,
    (parent, message) => {
      const json = JSON.stringify(message) as string | undefined;
      // A message JSON.stringify drops (a toJSON returning undefined) cannot be referenced; see encodeRequest.
      if (json === undefined) throw new TypeError('message is not JSON-serialisable');
      const messageHash = sha256Hex(json);
      return { id: sha256Hex(`${parent?.value.id ?? ''}:${messageHash}`), messageHash, json, stored: false };
    },
    unchangedMessage,
  );
  /**
   * Ids and message hashes committed by this handle, whatever message objects they came from: callers that
   * build fresh message objects per call (same texts, nothing cached on them) then skip the INSERT OR IGNOREs,
   * which were the largest part of recording a short request. Bounded; forgetting only costs a redundant insert.
   */
  private readonly committed = new Set<string>();
  private readonly insertMessage: SqlStatement;
  private readonly insertNode: SqlStatement;
  private readonly readList: SqlStatement<{ parent: string | null; json: string }>;

  constructor(db: SqlDriver) {
    this.insertMessage = db.prepare('INSERT OR IGNORE INTO messages (hash, json) VALUES (?, ?)');
    this.insertNode = db.prepare('INSERT OR IGNORE INTO message_lists (id, parent, message) VALUES (?, ?, ?)');
    // The list's messages, first to last, in one statement (SQLite walks the parent chain itself).
    this.readList = db.prepare(
      `WITH RECURSIVE chain (id, parent, message, depth) AS (
         SELECT id, parent, message, 0 FROM message_lists WHERE id = ?
         UNION ALL
         SELECT l.id, l.parent, l.message, chain.depth + 1 FROM message_lists AS l JOIN chain ON l.id = chain.parent
       )
       SELECT chain.parent AS parent, messages.json AS json FROM chain JOIN messages ON messages.hash = chain.message
       ORDER BY chain.depth DESC`,
    );
  }

  /**
   * The request's stored form. Requests without a non-empty list of message objects are stored inline (as
   * before v3), as is anything whose messages cannot be encoded (the caller's encodeJson reports why).
   */
  encodeRequest(request: unknown): EncodedRequest | undefined {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) return undefined;
    const messages = (request as { messages?: unknown }).messages;
    if (!isMessageList(messages)) return undefined;
    let chain: ListNode[];
    try {
      chain = this.lists.chain(LIST_ROOT, messages);
    } catch {
      return undefined;
    }
    let requestJson: string | undefined;
    try {
      // Spreading keeps the key order, so `messages` is put back in its own place when read.
      requestJson = JSON.stringify({ ...request, messages: null });
    } catch {
      return undefined;
    }
    if (requestJson === undefined) return undefined;
    return { requestJson, list: chain[chain.length - 1] };
  }

  /**
   * Writes the list's rows not yet stored (inside the caller's transaction) and returns their infos, to be
   * marked stored by `markStored` once that transaction has committed.
   */
  write(list: ListNode): ListNodeInfo[] {
    const fresh: ListNode[] = [];
    // A stored list implies its prefixes are stored: stop at the first one known to be in the file.
    for (
      let node: ListNode | undefined = list;
      node !== undefined && !node.value.stored && !this.committed.has(node.value.id);
      node = node.parent
    )
      fresh.push(node);
    for (let index = fresh.length - 1; index >= 0; index--) {
      const node = fresh[index]!;
      if (!this.committed.has(node.value.messageHash)) this.insertMessage.run(node.value.messageHash, node.value.json);
      this.insertNode.run(node.value.id, node.parent?.value.id ?? null, node.value.messageHash);
    }
    return fresh.map((node) => node.value);
  }

  /** Called after the transaction that wrote these nodes committed. */
  markStored(infos: readonly ListNodeInfo[]): void {
    for (const info of infos) {
      info.stored = true;
      info.json = '';
      if (this.committed.size >= COMMITTED_CAP) this.committed.clear();
      this.committed.add(info.id);
      this.committed.add(info.messageHash);
    }
  }

  /** The messages of a stored list, as parsed JSON. A broken chain (missing rows) is a JournalError. */
  read(listId: string): unknown[] {
    const rows = this.readList.all(listId);
    if (rows.length === 0 || rows[0]!.parent !== null) {
      throw new JournalError(`The journal's message list ${listId} is incomplete (rows missing from message_lists or messages)`);
    }
    return JSON.parse(`[${rows.map((row) => row.json).join(',')}]`) as unknown[];
  }
}
