// `multiproc worker --redis URL --module FILE …`: @multiproc/redis's worker command. The umbrella
// does not depend on that package (nor on its Redis client): it is found in the user's project.
import { createRequire } from 'node:module';
import { join } from 'node:path';

function load() {
  for (const base of [join(process.cwd(), 'noop.js'), import.meta.url]) {
    try {
      return createRequire(base)('@multiproc/redis');
    } catch (err) {
      if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('@multiproc/redis')) throw err;
    }
  }
  return null;
}

export async function run(args) {
  const redis = load();
  if (!redis) {
    process.stderr.write('multiproc worker: needs the package @multiproc/redis; install it where your tasks are: npm i @multiproc/redis\n');
    return 2;
  }
  return redis.runWorkerCommand(args);
}
