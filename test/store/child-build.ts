import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Child processes (the kill -9 tests) need the store as JavaScript, and Node 20 cannot run
 * TypeScript. Rather than depend on a fresh `dist/`, transpile src/store into a temp directory
 * whose node_modules links to the repo's, so `@duckdb/node-api` resolves as usual.
 */

const repoRoot = resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

export interface ChildBuild {
  /** Directory holding store/**.js; import `${dir}/store/duckdb/index.js`. */
  dir: string;
  cleanup: () => void;
}

export function buildStoreForChild(): ChildBuild {
  const dir = mkdtempSync(join(tmpdir(), 'loggy-store-js-'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const src = join(repoRoot, 'src/store');
  for (const file of tsFiles(src)) {
    const out = join(dir, 'store', relative(src, file)).replace(/\.ts$/, '.js');
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    }).outputText;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
