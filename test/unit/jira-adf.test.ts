// ADF rendering: the documents Jira v3 accepts, and the 32,767-character comment limit.
import { describe, expect, it } from 'vitest';
import {
  COMMENT_LIMIT,
  codeBlock,
  doc,
  heading,
  panel,
  paragraph,
  plainText,
  strong,
} from '../../src/jira/adf.js';

const size = (value: unknown) => JSON.stringify(value).length;

describe('adf: building comments', () => {
  it('renders headings, paragraphs, panels and code blocks as ADF nodes', () => {
    const document = doc([
      heading('Sync failed', 2),
      paragraph(strong('host'), ' srv-1'),
      panel('error', [codeBlock('')]),
    ]);
    expect(document).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Sync failed' }] },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'host', marks: [{ type: 'strong' }] },
            { type: 'text', text: ' srv-1' },
          ],
        },
        {
          type: 'panel',
          attrs: { panelType: 'error' },
          content: [
            { type: 'codeBlock', attrs: { language: 'shell' }, content: [{ type: 'text', text: '(empty)' }] },
          ],
        },
      ],
    });
  });

  it('drops empty text nodes, which Jira rejects', () => {
    expect(paragraph('', 'x', '')).toEqual({ type: 'paragraph', content: [{ type: 'text', text: 'x' }] });
  });
});

describe('adf: the comment size limit', () => {
  it('keeps a comment with huge command output under the limit, keeping the output tail', () => {
    const output = Array.from({ length: 20_000 }, (_, i) => `line ${i} "quoted"`).join('\n');
    const document = doc([heading('Memtest output'), codeBlock(output)]);
    expect(size(document)).toBeLessThan(COMMENT_LIMIT);
    const text = plainText(document);
    expect(text).toContain('line 19999 "quoted"');
    expect(text).toMatch(/characters cut/);
    expect(text).toContain('Memtest output');
  });

  it('trims several long blocks until the whole document fits', () => {
    const long = 'x'.repeat(25_000);
    const document = doc([
      codeBlock(long),
      panel('warning', [codeBlock(long)]),
      paragraph('retry with: runbot plan HOT-1'),
    ]);
    expect(size(document)).toBeLessThan(COMMENT_LIMIT);
    expect(plainText(document)).toContain('retry with: runbot plan HOT-1');
  });

  it('cuts an oversized paragraph from the end when there is no code block to shorten', () => {
    const document = doc([paragraph(`Start: ${'y'.repeat(50_000)}`)]);
    expect(size(document)).toBeLessThan(COMMENT_LIMIT);
    expect(plainText(document)).toMatch(/^Start: y+ … \(\d+ characters cut\)$/);
  });

  it('leaves a document under the budget untouched', () => {
    const blocks = [paragraph('short'), codeBlock('ok')];
    expect(doc(blocks).content).toEqual(blocks);
  });
});
