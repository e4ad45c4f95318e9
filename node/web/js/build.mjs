/**
 * npm run build: bundles src/ayllu.js and the @noble libraries it uses
 * into one minified ES module, node/web/static/ayllu-crypto.js (committed,
 * so the node serves it with no npm at run time), and writes the bundled
 * libraries' licences next to it, in ayllu-crypto.LICENSES.txt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const here = new URL('./', import.meta.url);
const staticDir = new URL('../static/', here);
const bundled = ['@noble/ciphers', '@noble/curves', '@noble/hashes'];

const packageOf = (name) => JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, here), 'utf8'));
const names = bundled.map((name) => `${name} ${packageOf(name).version}`).join(', ');

await build({
  entryPoints: [new URL('src/ayllu.js', here).pathname],
  outfile: new URL('ayllu-crypto.js', staticDir).pathname,
  bundle: true,
  format: 'esm',
  minify: true,
  // BigInt, optional chaining, and no newer syntax: phones' browsers since 2020.
  target: 'es2020',
  platform: 'neutral',
  legalComments: 'none',
  banner: {
    js: `/*! ayllu-crypto.js: ayllu's browser cryptography (AGPL-3.0-or-later), built from node/web/js/src/ayllu.js with ${names} (MIT License, (c) 2022 Paul Miller, paulmillr.com); licences in ayllu-crypto.LICENSES.txt */`,
  },
  logLevel: 'info',
});

const sections = bundled.map((name) => {
  const meta = packageOf(name);
  const licence = readFileSync(new URL(`node_modules/${name}/LICENSE`, here), 'utf8').trim();
  const source = typeof meta.repository === 'object' ? meta.repository.url : meta.repository;
  return `${name} ${meta.version} (${meta.license})\n${source ?? meta.homepage ?? ''}\n\n${licence}\n`;
});
writeFileSync(
  new URL('ayllu-crypto.LICENSES.txt', staticDir),
  `ayllu-crypto.js bundles the following libraries, under these licences.\n\n${sections.join('\n' + '-'.repeat(72) + '\n\n')}`,
);
