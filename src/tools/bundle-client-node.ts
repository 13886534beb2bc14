// Build step: replaces tsc's dist/src/adapters/client-node.js with a bundle of only what that file
// names from @kubernetes/client-node, tree-shaken and minified (class names kept, for errors and
// instanceof), so that a worker does not load the package's 65 API classes to use five. See the
// comment in src/adapters/client-node.ts for the figures. esbuild is a build-time dependency only.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..', '..', '..');
const source = join(root, 'src', 'adapters', 'client-node.ts');
const target = join(root, 'dist', 'src', 'adapters', 'client-node.js');

/** The names a module exports, without reading them (tsc's re-exports are getters). */
function exportedNames(file: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const names = Object.keys(require(file) as object).sort();
  delete require.cache[require.resolve(file)];
  return names;
}

async function bundle(): Promise<void> {
  // tsc's output re-exports from the whole package: what the bundle must still export.
  const expected = exportedNames(target);
  const result = await build({
    entryPoints: [source],
    outfile: target,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.length} errors`);
  // A name the bundle lost would only show at the first diagnosis: check every one now.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bundled = require(target) as Record<string, unknown>;
  const missing = expected.filter((name) => bundled[name] === undefined);
  if (missing.length > 0) throw new Error(`the client-node bundle lacks ${missing.join(', ')}`);
}

bundle().then(
  () => {
    const size = (statSync(target).size / 1048576).toFixed(1);
    process.stdout.write(`client-node bundled: dist/src/adapters/client-node.js, ${size} MB\n`);
  },
  (error: unknown) => {
    process.stderr.write(
      `bundling client-node failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
