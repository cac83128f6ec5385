// The reference line of the bot's comments: `ref runbot/<key>/<visit>/<purpose>`. The bot finds its
// own comment again by it (a retried job posts nothing twice), so its format has one owner.
import { plainText, type AdfDocument } from './adf.js';

const PREFIX = 'ref runbot/';

export function commentRef(key: string, visit: number, purpose: string): string {
  return `${PREFIX}${key}/${visit}/${purpose}`;
}

/** The reference a comment the bot wrote carries, if it carries one. */
export function commentRefIn(body: AdfDocument): string | undefined {
  return new RegExp(`${PREFIX}\\S+`).exec(plainText(body))?.[0];
}
