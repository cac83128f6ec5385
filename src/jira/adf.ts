// Atlassian Document Format: the one small renderer for every comment the bot writes.
// Jira rejects comment bodies over 32,767 characters; we keep the serialised document under a
// safety margin by shortening code blocks (the long parts: command output) from the front.

export interface AdfText {
  type: 'text';
  text: string;
  marks?: { type: 'strong' | 'code' | 'em' }[];
}
export type AdfInline = AdfText;
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

export const text = (value: string): AdfText => ({ type: 'text', text: value });
export const strong = (value: string): AdfText => ({
  type: 'text',
  text: value,
  marks: [{ type: 'strong' }],
});
export const code = (value: string): AdfText => ({ type: 'text', text: value, marks: [{ type: 'code' }] });

export function paragraph(...inline: (AdfInline | string)[]): AdfBlock {
  const content = inline
    .map((part) => (typeof part === 'string' ? text(part) : part))
    .filter((t) => t.text !== '');
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
  const record = node as { text?: unknown; content?: unknown };
  if (typeof record.text === 'string') return record.text;
  if (!Array.isArray(record.content)) return '';
  return record.content.map(plainText).join('\n');
}

function fitCommentLimit(document: AdfDocument): AdfDocument {
  let excess = JSON.stringify(document).length - COMMENT_BUDGET;
  if (excess <= 0) return document;
  const shortened = structuredClone(document);
  for (const block of codeBlocks(shortened.content)) {
    const node = block.content?.[0] as AdfText | undefined;
    if (!node || excess <= 0) continue;
    const cut = Math.min(node.text.length - 1, excess + 64);
    if (cut <= 0) continue;
    node.text = `… (${cut} characters cut)\n${node.text.slice(cut)}`;
    excess -= cut - 32;
  }
  return shortened;
}

function* codeBlocks(blocks: (AdfBlock | AdfInline)[]): Generator<AdfBlock> {
  for (const block of blocks) {
    if (block.type === 'codeBlock') yield block;
    else if (block.type !== 'text' && block.content) yield* codeBlocks(block.content);
  }
}
