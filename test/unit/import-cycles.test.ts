// docs/ARCHITECTURE.md promises imports without cycles, type-only imports included (a cycle of
// types still ties two modules' fates together), and the tests' own modules keep to it too. The
// lint rules keep layers apart; this keeps modules within a layer from leaning on each other in a
// ring.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The relative imports and re-exports of a file, as files. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)) {
    const base = path.resolve(path.dirname(file), match[1] as string);
    const found = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate));
    if (found) targets.push(found);
  }
  return targets;
}

/** Every cycle found by a depth-first walk, as "a -> b -> a". */
function importCycles(files: string[]): string[] {
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open')
        cycles.push(
          [...stack.slice(stack.indexOf(next)), next].map((f) => path.relative(ROOT, f)).join(' -> '),
        );
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

it('src/, handlers/, jobs/ and test/ import each other without cycles', () => {
  const files = ['src', 'handlers', 'jobs', 'test'].flatMap((dir) => sources(path.join(ROOT, dir)));
  expect(files.length).toBeGreaterThan(50);
  expect(importCycles(files)).toEqual([]);
});

it('finds a cycle, type-only imports included', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cycles-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport type A = B;\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "export { c } from './c';\nexport type B = string;\n");
    fs.writeFileSync(path.join(dir, 'c.ts'), "import {\n  type A,\n} from './a';\nexport const c: A = '';\n");
    const cycles = importCycles(['a', 'b', 'c'].map((name) => path.join(dir, `${name}.ts`)));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toMatch(/a\.ts -> .*b\.ts -> .*c\.ts -> .*a\.ts$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
