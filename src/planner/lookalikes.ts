// Characters in a ticket value that are not plain ASCII, named the way Unicode names them, so a person
// can see why "cоntainer-101-08.dev2" (with a Cyrillic о) is not the host they meant. Pure: no I/O.

/** Look-alikes met in pasted host names and ids: the character, its Unicode name, what it looks like. */
const KNOWN: Record<string, [name: string, looksLike: string]> = {
  '\u0430': ['CYRILLIC SMALL LETTER A', 'a'],
  '\u0432': ['CYRILLIC SMALL LETTER VE', 'B'],
  '\u0435': ['CYRILLIC SMALL LETTER IE', 'e'],
  '\u043a': ['CYRILLIC SMALL LETTER KA', 'k'],
  '\u043c': ['CYRILLIC SMALL LETTER EM', 'M'],
  '\u043d': ['CYRILLIC SMALL LETTER EN', 'H'],
  '\u043e': ['CYRILLIC SMALL LETTER O', 'o'],
  '\u0440': ['CYRILLIC SMALL LETTER ER', 'p'],
  '\u0441': ['CYRILLIC SMALL LETTER ES', 'c'],
  '\u0442': ['CYRILLIC SMALL LETTER TE', 'T'],
  '\u0443': ['CYRILLIC SMALL LETTER U', 'y'],
  '\u0445': ['CYRILLIC SMALL LETTER HA', 'x'],
  '\u0455': ['CYRILLIC SMALL LETTER DZE', 's'],
  '\u0456': ['CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I', 'i'],
  '\u0458': ['CYRILLIC SMALL LETTER JE', 'j'],
  '\u04bb': ['CYRILLIC SMALL LETTER SHHA', 'h'],
  '\u0501': ['CYRILLIC SMALL LETTER KOMI DE', 'd'],
  '\u0410': ['CYRILLIC CAPITAL LETTER A', 'A'],
  '\u0412': ['CYRILLIC CAPITAL LETTER VE', 'B'],
  '\u0415': ['CYRILLIC CAPITAL LETTER IE', 'E'],
  '\u041a': ['CYRILLIC CAPITAL LETTER KA', 'K'],
  '\u041c': ['CYRILLIC CAPITAL LETTER EM', 'M'],
  '\u041d': ['CYRILLIC CAPITAL LETTER EN', 'H'],
  '\u041e': ['CYRILLIC CAPITAL LETTER O', 'O'],
  '\u0420': ['CYRILLIC CAPITAL LETTER ER', 'P'],
  '\u0421': ['CYRILLIC CAPITAL LETTER ES', 'C'],
  '\u0422': ['CYRILLIC CAPITAL LETTER TE', 'T'],
  '\u0425': ['CYRILLIC CAPITAL LETTER HA', 'X'],
  '\u03b1': ['GREEK SMALL LETTER ALPHA', 'a'],
  '\u03b5': ['GREEK SMALL LETTER EPSILON', 'e'],
  '\u03b9': ['GREEK SMALL LETTER IOTA', 'i'],
  '\u03ba': ['GREEK SMALL LETTER KAPPA', 'k'],
  '\u03bd': ['GREEK SMALL LETTER NU', 'v'],
  '\u03bf': ['GREEK SMALL LETTER OMICRON', 'o'],
  '\u03c1': ['GREEK SMALL LETTER RHO', 'p'],
  '\u03c4': ['GREEK SMALL LETTER TAU', 't'],
  '\u03c5': ['GREEK SMALL LETTER UPSILON', 'u'],
  '\u03c7': ['GREEK SMALL LETTER CHI', 'x'],
  '\u0391': ['GREEK CAPITAL LETTER ALPHA', 'A'],
  '\u0392': ['GREEK CAPITAL LETTER BETA', 'B'],
  '\u0395': ['GREEK CAPITAL LETTER EPSILON', 'E'],
  '\u0397': ['GREEK CAPITAL LETTER ETA', 'H'],
  '\u0399': ['GREEK CAPITAL LETTER IOTA', 'I'],
  '\u039a': ['GREEK CAPITAL LETTER KAPPA', 'K'],
  '\u039c': ['GREEK CAPITAL LETTER MU', 'M'],
  '\u039d': ['GREEK CAPITAL LETTER NU', 'N'],
  '\u039f': ['GREEK CAPITAL LETTER OMICRON', 'O'],
  '\u03a1': ['GREEK CAPITAL LETTER RHO', 'P'],
  '\u03a4': ['GREEK CAPITAL LETTER TAU', 'T'],
  '\u03a7': ['GREEK CAPITAL LETTER CHI', 'X'],
  '\u0131': ['LATIN SMALL LETTER DOTLESS I', 'i'],
  '\u00a0': ['NO-BREAK SPACE', 'a space'],
  '\u00ad': ['SOFT HYPHEN', 'nothing'],
  '\u200b': ['ZERO WIDTH SPACE', 'nothing'],
  '\u200c': ['ZERO WIDTH NON-JOINER', 'nothing'],
  '\u200d': ['ZERO WIDTH JOINER', 'nothing'],
  '\u2060': ['WORD JOINER', 'nothing'],
  '\ufeff': ['ZERO WIDTH NO-BREAK SPACE', 'nothing'],
  '\u2010': ['HYPHEN', '-'],
  '\u2011': ['NON-BREAKING HYPHEN', '-'],
  '\u2012': ['FIGURE DASH', '-'],
  '\u2013': ['EN DASH', '-'],
  '\u2014': ['EM DASH', '-'],
  '\u2212': ['MINUS SIGN', '-'],
  '\u2024': ['ONE DOT LEADER', '.'],
  '\u3002': ['IDEOGRAPHIC FULL STOP', '.'],
  '\uff0e': ['FULLWIDTH FULL STOP', '.'],
  '\u2018': ['LEFT SINGLE QUOTATION MARK', "'"],
  '\u2019': ['RIGHT SINGLE QUOTATION MARK', "'"],
  '\u201c': ['LEFT DOUBLE QUOTATION MARK', '"'],
  '\u201d': ['RIGHT DOUBLE QUOTATION MARK', '"'],
};

const SCRIPTS = ['Cyrillic', 'Greek', 'Armenian', 'Cherokee', 'Han', 'Latin'] as const;

export interface NonAsciiCharacter {
  character: string;
  /** 1-based, in characters (code points) of the value. */
  position: number;
  codePoint: string;
  name: string | undefined;
  looksLike: string | undefined;
}

/** Every character of the value outside printable ASCII (control characters are told elsewhere). */
export function nonAsciiCharacters(value: string): NonAsciiCharacter[] {
  return [...value].flatMap((character, index) => {
    const code = character.codePointAt(0) ?? 0;
    if (code < 0x80) return [];
    const [name, looksLike] = KNOWN[character] ?? [undefined, undefined];
    return [
      {
        character,
        position: index + 1,
        codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
        name: name ?? scriptOf(character),
        looksLike,
      },
    ];
  });
}

function scriptOf(character: string): string | undefined {
  const script = SCRIPTS.find((name) => new RegExp(`\\p{Script=${name}}`, 'u').test(character));
  return script ? `a ${script} character` : undefined;
}

/** A sentence naming each non-ASCII character, or undefined when the value is plain ASCII. */
export function nonAsciiNote(value: string): string | undefined {
  const found = nonAsciiCharacters(value);
  if (found.length === 0) return undefined;
  const shown = found.slice(0, 5).map((c) => {
    const looks =
      c.looksLike === undefined
        ? ''
        : `, which looks like ${c.looksLike === 'nothing' || c.looksLike === 'a space' ? c.looksLike : `"${c.looksLike}"`}`;
    return `${c.codePoint}${c.name ? ` ${c.name}` : ''} at position ${c.position}${looks}`;
  });
  const more = found.length > 5 ? ` and ${found.length - 5} more` : '';
  return `It contains ${found.length === 1 ? 'a character' : 'characters'} that ${found.length === 1 ? 'is' : 'are'} not plain ASCII: ${shown.join('; ')}${more}. Retype the value rather than pasting it.`;
}
