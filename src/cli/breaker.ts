// `runbot resume --breaker SITE/STEP`: closes a failure-rate breaker that runs opened. Its tickets
// waited in their status; the workers start their steps at their next look (within seconds).
import { redisSettings, type Config } from '../config.js';
import { loadDefinitions } from '../definitions/index.js';
import { breakerLimits } from '../planner/index.js';
import { BreakerStore, createRedis } from '../queue/index.js';

export async function resumeBreakerCommand(
  config: Config,
  spec: string,
  print: (line: string) => void,
): Promise<number> {
  const [site, step, ...rest] = spec.split('/');
  if (!site || !step || rest.length > 0) {
    print(`runbot resume --breaker: expected SITE/STEP, e.g. dev2/sync; got ${JSON.stringify(spec)}`);
    return 1;
  }
  const definitions = await loadDefinitions({
    root: config.RUNBOT_DEFINITIONS,
    ...(config.RUNBOT_INVENTORY ? { inventory: config.RUNBOT_INVENTORY } : {}),
  });
  const sites = Object.keys(definitions.inventory.sites);
  if (!sites.includes(site)) {
    print(`runbot resume --breaker: no site ${site} in the inventory (sites: ${sites.join(', ') || 'none'})`);
    return 1;
  }
  const steps = [...definitions.runbooks.values()].flatMap(({ runbook }) => Object.keys(runbook.steps));
  if (!steps.includes(step)) {
    print(
      `runbot resume --breaker: no step ${step} in the runbooks (steps: ${[...new Set(steps)].join(', ')})`,
    );
    return 1;
  }
  const redis = createRedis(redisSettings(config), { maxRetriesPerRequest: 1 });
  try {
    const wasOpen = await new BreakerStore(redis, config.RUNBOT_QUEUE_PREFIX).reset(site, step);
    const limits = breakerLimits(definitions.inventory, site, step);
    const armed = limits
      ? `it opens again at ${limits.failures} failures of the next ${limits.window} runs`
      : 'the inventory turns it off';
    print(
      wasOpen
        ? `breaker ${site}/${step} reset: its tickets start again; ${armed}`
        : `breaker ${site}/${step} was not open; its run history is cleared`,
    );
    return 0;
  } finally {
    redis.disconnect();
  }
}
