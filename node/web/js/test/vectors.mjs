#!/usr/bin/env node
/**
 * Checks the built browser module (node/web/static/ayllu-crypto.js, the
 * file the node serves) against the test vectors: `node
 * node/web/js/test/vectors.mjs` from the repository root (or from
 * anywhere: paths are found from this file). Prints one JSON line
 * {"checked": N, "failed": [...]} and exits 0 only if nothing failed.
 */
import { readFileSync } from 'node:fs';
import { runVectorChecks } from './checks.mjs';

const root = new URL('../../../../', import.meta.url);
const read = (path) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

let result;
try {
  const vectors = {};
  for (const name of ['events', 'ring', 'ballots', 'genesis', 'groups', 'accountability']) {
    vectors[name] = read(`specs/vectors/${name}.json`);
  }
  vectors.python = read('node/web/js/test/python-fixture.json');
  result = await runVectorChecks(vectors);
} catch (error) {
  result = { checked: 0, failed: [`the checks did not run: ${error?.stack ?? error}`] };
}
console.log(JSON.stringify(result));
process.exit(result.failed.length === 0 && result.checked > 0 ? 0 : 1);
