// Jira sandbox: a small JQL parser. Grammar (keywords case-insensitive):
//   query   := [expr] [ORDER BY sortKey {"," sortKey}]
//   expr    := andExpr {OR andExpr};  andExpr := unary {AND unary}
//   unary   := NOT unary | "(" expr ")" | clause
//   clause  := field ("=" | "!=") value | field [NOT] IN "(" value {"," value} ")" | field IS [NOT] (EMPTY | NULL)
//            | custom ("~" | "!~") value
//   field   := project | issuetype | type | status | labels | key | issuekey;  value := bare word | "quoted" | 'quoted'
//   custom  := cf[N] | customfield_N  (a text field; `~` is Jira's text search, see jql-eval.ts)
// Errors are JqlError with Jira's wording where the sandbox knows it.

export type JqlField = 'project' | 'issuetype' | 'status' | 'labels' | 'key';
export type SortField = 'key' | 'created' | 'updated';

export type JqlExpr =
  | { kind: 'in'; field: JqlField; values: string[]; negated: boolean }
  | { kind: 'empty'; field: JqlField; negated: boolean }
  | { kind: 'and' | 'or'; parts: JqlExpr[] }
  | { kind: 'not'; inner: JqlExpr }
  /** `cf[N] ~ value`: text search in custom field `customfield_N`. */
  | { kind: 'text'; field: string; query: string; negated: boolean };

export interface JqlQuery {
  where: JqlExpr | undefined;
  orderBy: { field: SortField; direction: 'ASC' | 'DESC' }[];
}

export class JqlError extends Error {
  override name = 'JqlError';
}

const FIELD_ALIASES: Record<string, JqlField> = {
  project: 'project',
  issuetype: 'issuetype',
  type: 'issuetype',
  status: 'status',
  labels: 'labels',
  key: 'key',
  issuekey: 'key',
  id: 'key',
};
const SORT_FIELDS = new Set<string>(['key', 'issuekey', 'created', 'updated']);
const JQL_OPERATORS = `'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'`;

interface Token {
  kind: 'word' | 'string' | 'symbol' | 'end';
  text: string;
  at: number; // 1-based character
}

function tokenize(jql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < jql.length) {
    const ch = jql[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"' || ch === "'") {
      let text = '';
      let j = i + 1;
      while (j < jql.length && jql[j] !== ch) {
        if (jql[j] === '\\') j++; // a backslash escapes the next character, quotes included
        text += jql[j] ?? '';
        j++;
      }
      if (j >= jql.length) throw syntax(`The quoted string '${text}' has not been completed.`, i + 1);
      tokens.push({ kind: 'string', text, at: i + 1 });
      i = j + 1;
    } else if (/[()=,]/.test(ch)) {
      tokens.push({ kind: 'symbol', text: ch, at: ++i });
    } else if (/[!<>~]/.test(ch)) {
      const two = jql.slice(i, i + 2);
      const text = ['!=', '<=', '>=', '!~'].includes(two) ? two : ch;
      tokens.push({ kind: 'symbol', text, at: i + 1 });
      i += text.length;
    } else {
      const match = /^[^\s()=,!<>~"']+/.exec(jql.slice(i));
      const text = match?.[0] ?? ch;
      tokens.push({ kind: 'word', text, at: i + 1 });
      i += text.length;
    }
  }
  tokens.push({ kind: 'end', text: '', at: jql.length + 1 });
  return tokens;
}

function syntax(problem: string, at: number): JqlError {
  return new JqlError(`Error in the JQL Query: ${problem} (line 1, character ${at})`);
}

function shown(token: Token): string {
  return token.kind === 'end' ? 'the end of the query' : `'${token.text}'`;
}

export function parseJql(jql: string): JqlQuery {
  return new Parser(tokenize(jql)).query();
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  query(): JqlQuery {
    const where = this.isKeyword('ORDER') || this.peek().kind === 'end' ? undefined : this.expr();
    const orderBy = this.isKeyword('ORDER') ? this.orderBy() : [];
    const rest = this.peek();
    if (rest.kind !== 'end') throw syntax(`Expecting either 'OR' or 'AND' but got ${shown(rest)}.`, rest.at);
    return { where, orderBy };
  }

  private expr(): JqlExpr {
    const parts = [this.andExpr()];
    while (this.acceptKeyword('OR')) parts.push(this.andExpr());
    return parts.length === 1 && parts[0] ? parts[0] : { kind: 'or', parts };
  }

  private andExpr(): JqlExpr {
    const parts = [this.unary()];
    while (this.acceptKeyword('AND')) parts.push(this.unary());
    return parts.length === 1 && parts[0] ? parts[0] : { kind: 'and', parts };
  }

  private unary(): JqlExpr {
    if (this.acceptKeyword('NOT')) return { kind: 'not', inner: this.unary() };
    if (this.acceptSymbol('(')) {
      const inner = this.expr();
      this.expectSymbol(')');
      return inner;
    }
    return this.clause();
  }

  private clause(): JqlExpr {
    const name = this.next();
    if (name.kind !== 'word' && name.kind !== 'string') {
      throw syntax(`Expecting a field name but got ${shown(name)}.`, name.at);
    }
    const custom = /^(?:cf\[(\d+)\]|customfield_(\d+))$/i.exec(name.text);
    if (custom) {
      const op = this.next();
      if (op.kind !== 'symbol' || (op.text !== '~' && op.text !== '!~')) {
        throw new JqlError(`The sandbox supports only '~' and '!~' on custom fields such as '${name.text}'.`);
      }
      const field = `customfield_${custom[1] ?? custom[2] ?? ''}`;
      return { kind: 'text', field, query: this.value(), negated: op.text === '!~' };
    }
    const field = FIELD_ALIASES[name.text.toLowerCase()];
    if (!field)
      throw new JqlError(`Field '${name.text}' does not exist or you do not have permission to view it.`);
    const op = this.next();
    const upper = op.text.toUpperCase();
    if (op.kind === 'symbol' && (op.text === '=' || op.text === '!=')) {
      return { kind: 'in', field, values: [this.value()], negated: op.text === '!=' };
    }
    if (op.kind === 'word' && upper === 'IN')
      return { kind: 'in', field, values: this.list(), negated: false };
    if (op.kind === 'word' && upper === 'NOT' && this.acceptKeyword('IN')) {
      return { kind: 'in', field, values: this.list(), negated: true };
    }
    if (op.kind === 'word' && upper === 'IS') {
      const negated = this.acceptKeyword('NOT');
      const what = this.next();
      if (!['EMPTY', 'NULL'].includes(what.text.toUpperCase()) || what.kind !== 'word') {
        throw syntax(`Expecting 'EMPTY' or 'NULL' but got ${shown(what)}.`, what.at);
      }
      return { kind: 'empty', field, negated };
    }
    if (op.kind === 'symbol' && ['<', '>', '<=', '>=', '~', '!~'].includes(op.text)) {
      throw new JqlError(`The operator '${op.text}' is not supported by the '${name.text}' field.`);
    }
    throw syntax(`Expecting operator but got ${shown(op)}. The valid operators are ${JQL_OPERATORS}.`, op.at);
  }

  private list(): string[] {
    this.expectSymbol('(');
    const values = [this.value()];
    while (this.acceptSymbol(',')) values.push(this.value());
    this.expectSymbol(')');
    return values;
  }

  private value(): string {
    const token = this.next();
    if (token.kind === 'string') return token.text;
    if (token.kind !== 'word') {
      throw syntax(`Expecting either a value, list or function but got ${shown(token)}.`, token.at);
    }
    if (this.peek().kind === 'symbol' && this.peek().text === '(') {
      throw new JqlError(`The sandbox does not support JQL functions such as '${token.text}()'.`);
    }
    if (['AND', 'OR', 'NOT', 'ORDER', 'IN', 'IS', 'EMPTY', 'NULL'].includes(token.text.toUpperCase())) {
      throw syntax(`Expecting either a value, list or function but got ${shown(token)}.`, token.at);
    }
    return token.text;
  }

  private orderBy(): JqlQuery['orderBy'] {
    this.next(); // ORDER
    if (!this.acceptKeyword('BY'))
      throw syntax(`Expecting 'BY' but got ${shown(this.peek())}.`, this.peek().at);
    const keys: JqlQuery['orderBy'] = [];
    do {
      const token = this.next();
      const name = token.text.toLowerCase();
      if (token.kind === 'end') throw syntax(`Expecting a field name but got ${shown(token)}.`, token.at);
      if (!SORT_FIELDS.has(name)) {
        if (FIELD_ALIASES[name]) throw new JqlError(`Not able to sort using field '${token.text}'.`);
        throw new JqlError(`Field '${token.text}' does not exist or you do not have permission to view it.`);
      }
      const direction = this.acceptKeyword('DESC') ? 'DESC' : (this.acceptKeyword('ASC'), 'ASC');
      keys.push({ field: name === 'issuekey' ? 'key' : (name as SortField), direction });
    } while (this.acceptSymbol(','));
    return keys;
  }

  private peek(): Token {
    return this.tokens[this.index] ?? { kind: 'end', text: '', at: 0 };
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'word' && token.text.toUpperCase() === word;
  }

  private acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.index++;
    return true;
  }

  private acceptSymbol(symbol: string): boolean {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.text !== symbol) return false;
    this.index++;
    return true;
  }

  private expectSymbol(symbol: string): void {
    const token = this.peek();
    if (!this.acceptSymbol(symbol)) throw syntax(`Expecting '${symbol}' but got ${shown(token)}.`, token.at);
  }
}
