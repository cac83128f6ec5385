// Atlassian Document Format: the one small renderer for every comment the bot writes.
// Jira rejects comment bodies over 32,767 characters; we keep the serialised document under a
// safety margin by shortening code blocks (the long parts: command output) from the front.

export interface AdfText {
  type: 'text';
  text: string;
  marks?: { type: 'strong' | 'code' | 'em' }[];
}
/** A mention of a user (Jira notifies them): `text` is what readers see, `id` their account id. */
export interface AdfMention {
  type: 'mention';
  attrs: { id: string; text: string };
}
export type AdfInline = AdfText | AdfMention;
export interface AdfBlock {
  type: 'paragraph' | 'heading' | 'codeBlock' | 'panel' | 'rule';
  attrs?: Record<string, string | number>;
  content?: (AdfBlock | AdfInline)[];
}
export interface AdfDocument {
  type: 'doc';
  version: 1;
  content: AdfBlock[];
}

export const COMMENT_LIMIT = 32_767;
const COMMENT_BUDGET = 30_000;

const text = (value: string): AdfText => ({ type: 'text', text: value });
export const strong = (value: string): AdfText => ({
  type: 'text',
  text: value,
  marks: [{ type: 'strong' }],
});
export const code = (value: string): AdfText => ({ type: 'text', text: value, marks: [{ type: 'code' }] });

export const mention = (accountId: string, shown = `@${accountId}`): AdfMention => ({
  type: 'mention',
  attrs: { id: accountId, text: shown },
});

export function paragraph(...inline: (AdfInline | string)[]): AdfBlock {
  const content = inline
    .map((part) => (typeof part === 'string' ? text(part) : part))
    .filter((t) => t.type !== 'text' || t.text !== '');
  return { type: 'paragraph', content };
}

export function heading(value: string, level = 3): AdfBlock {
  return { type: 'heading', attrs: { level }, content: [text(value)] };
}

/** A code block; empty text is not allowed in ADF, so an empty block shows "(empty)". */
export function codeBlock(value: string, language = 'shell'): AdfBlock {
  return { type: 'codeBlock', attrs: { language }, content: [text(value === '' ? '(empty)' : value)] };
}

export function panel(
  panelType: 'info' | 'note' | 'warning' | 'error' | 'success',
  content: AdfBlock[],
): AdfBlock {
  return { type: 'panel', attrs: { panelType }, content };
}

export function doc(content: AdfBlock[]): AdfDocument {
  return fitCommentLimit({ type: 'doc', version: 1, content });
}

/** Plain text of a document (text nodes joined by newlines), used to find the bot's markers. */
export function plainText(node: unknown): string {
  if (node === null || typeof node !== 'object') return '';
  const record = node as { type?: unknown; text?: unknown; content?: unknown; attrs?: { text?: unknown } };
  if (typeof record.text === 'string') return record.text;
  if (record.type === 'mention' && typeof record.attrs?.text === 'string') return record.attrs.text;
  if (!Array.isArray(record.content)) return '';
  return record.content.map(plainText).join('\n');
}

function fitCommentLimit(document: AdfDocument): AdfDocument {
  const size = (value: unknown) => JSON.stringify(value).length;
  if (size(document) <= COMMENT_BUDGET) return document;
  const shortened = structuredClone(document);
  // Code blocks (command output) lose their head, keeping the tail where errors are. Escaping
  // (quotes, newlines) makes JSON longer than the text, so measure again and repeat a few times.
  for (let pass = 0; pass < 4; pass += 1) {
    let excess = size(shortened) - COMMENT_BUDGET;
    for (const block of codeBlocks(shortened.content)) {
      const node = block.content?.[0] as AdfText | undefined;
      if (!node || excess <= 0) continue;
      const before = size(node.text);
      // The tail that fits, judged by this node's own ratio of JSON size to text length.
      const keep = Math.max(0, Math.floor(((before - excess - 64) * node.text.length) / before));
      const cut = node.text.length - keep;
      if (cut <= 0) continue;
      node.text = `… (${cut} characters cut)\n${node.text.slice(cut)}`;
      excess -= before - size(node.text);
    }
  }
  // Still too long (a huge paragraph, many blocks): cut the longest text nodes from the end.
  let excess = size(shortened) - COMMENT_BUDGET;
  for (const node of [...textNodes(shortened.content)].sort((a, b) => b.text.length - a.text.length)) {
    if (excess <= 0) break;
    const keep = Math.max(1, node.text.length - excess - 64);
    if (keep >= node.text.length) continue;
    const before = size(node.text);
    node.text = `${node.text.slice(0, keep)} … (${node.text.length - keep} characters cut)`;
    excess -= before - size(node.text);
  }
  return shortened;
}

/** Whether a document quotes commands or their output: a code block, or text marked as code. */
export function quotesCommands(document: AdfDocument): boolean {
  return (
    [...codeBlocks(document.content)].length > 0 ||
    [...textNodes(document.content)].some((node) => node.marks?.some((mark) => mark.type === 'code'))
  );
}

function* textNodes(nodes: (AdfBlock | AdfInline)[]): Generator<AdfText> {
  for (const node of nodes) {
    if (node.type === 'text') yield node;
    else if (node.type !== 'mention' && node.content) yield* textNodes(node.content);
  }
}

function* codeBlocks(blocks: (AdfBlock | AdfInline)[]): Generator<AdfBlock> {
  for (const block of blocks) {
    if (block.type === 'codeBlock') yield block;
    else if (block.type !== 'text' && block.type !== 'mention' && block.content)
      yield* codeBlocks(block.content);
  }
}
