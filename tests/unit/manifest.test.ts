import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the analyzer's config is plain JavaScript (no declarations)
import { vscodeCustomData } from '../../custom-elements-manifest.config.mjs';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

interface Named {
  name: string;
}
interface Attribute extends Named {
  fieldName?: string;
  type?: { text: string };
}
interface Member extends Named {
  kind: string;
  privacy?: string;
}
interface Element {
  tagName?: string;
  attributes: Attribute[];
  members: Member[];
  events: (Named & { type?: { text: string } })[];
  cssParts: Named[];
  cssProperties: Named[];
  slots?: Named[];
}
interface Manifest {
  modules: { path: string; declarations?: Element[]; exports?: { kind: string; name: string; declaration: { module?: string } }[] }[];
}

const faceLogin = (m: Manifest) => m.modules.flatMap((mod) => mod.declarations ?? []).find((d) => d.tagName === 'face-login')!;
const names = (xs: Named[] | undefined) => (xs ?? []).map((x) => x.name);

/** The members of an interface, or the members of a union of string literals, in a source file. */
function declared(file: string, name: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  let found: string[] | undefined;
  ts.forEachChild(source, (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) {
      found = node.members.filter(ts.isPropertySignature).map((m) => (ts.isStringLiteral(m.name) ? m.name.text : m.name.getText()));
    }
    if (ts.isTypeAliasDeclaration(node) && node.name.text === name && ts.isUnionTypeNode(node.type)) {
      found = node.type.types.map((t) => (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : t.getText()));
    }
  });
  if (!found) throw new Error(`${file} declares no ${name}`);
  return found;
}

let manifest: Manifest;
let el: Element;

beforeAll(() => {
  manifest = read('custom-elements.json');
  el = faceLogin(manifest);
});

it('custom-elements.json and vscode.html-custom-data.json are generated from the element\'s JSDoc and committed up to date', () => {
  const out = mkdtempSync(join(tmpdir(), 'cem-'));
  // The analyzer resolves --outdir against the working directory, even an absolute one.
  try {
    execFileSync(join(root, 'node_modules/.bin/cem'), ['analyze', '--config', 'custom-elements-manifest.config.mjs', '--outdir', relative(root, out)], { cwd: root, stdio: 'pipe' });
    const fresh = JSON.parse(readFileSync(join(out, 'custom-elements.json'), 'utf8'));
    expect(manifest, 'run "npm run manifest" and commit custom-elements.json').toEqual(fresh);
    const freshData = JSON.parse(readFileSync(join(out, 'vscode.html-custom-data.json'), 'utf8'));
    expect(read('vscode.html-custom-data.json'), 'run "npm run manifest" and commit vscode.html-custom-data.json').toEqual(freshData);
    // IDEs find the manifest through package.json, and running the analyzer must not repoint it.
    expect(read('package.json').customElements).toBe('custom-elements.json');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 30_000);

describe('the manifest lists the public API only', () => {
  it('has no internal state: no private or protected member, no state property, no attribute without a public field', () => {
    const internal = ['status', 'busy', 'hint', 'progress', 'cameras', 'sessionInfo', 'spentSession', '_mode', 'controller'];
    for (const n of internal) {
      expect(names(el.attributes), n).not.toContain(n);
      expect(names(el.members), n).not.toContain(n);
    }
    expect(el.members.filter((m) => m.privacy === 'private' || m.privacy === 'protected').map((m) => m.name)).toEqual([]);
    const fields = new Set(el.members.filter((m) => m.kind === 'field').map((m) => m.name));
    for (const a of el.attributes) expect(fields.has(a.fieldName ?? ''), `attribute ${a.name} has a public field`).toBe(true);
    expect(names(el.members)).toEqual(expect.arrayContaining(['start', 'cancel', 'engine', 'mode', 'userId']));
  });

  it('lists the attributes the framework types know, with their values spelled out', () => {
    expect(names(el.attributes).sort()).toEqual(declared('src/element/attributes.ts', 'FaceLoginAttributes').sort());
    expect(el.attributes.map((a) => a.fieldName).sort()).toEqual(declared('src/element/attributes.ts', 'FaceLoginProperty').sort());
    const type = (n: string) => el.attributes.find((a) => a.name === n)?.type?.text;
    expect(type('mode')).toBe("'enroll' | 'verify' | 'identify'");
    expect(type('backend')).toBe("'auto' | 'webgl' | 'wasm' | 'cpu'");
    expect(type('liveness')).toBe("'off' | 'active' | 'passive' | 'both'");
    expect(type('guided')).toBe('boolean');
  });

  it('types every event with its detail, for every event of FaceLoginEventMap', () => {
    const map = declared('src/element/events.ts', 'FaceLoginEventMap');
    expect(names(el.events).sort()).toEqual([...map].sort());
    const exported = readFileSync(join(root, 'src/element/events.ts'), 'utf8');
    for (const e of el.events) {
      const detail = /^CustomEvent<(FaceLogin\w+Detail)>$/.exec(e.type?.text ?? '')?.[1];
      expect(detail, `${e.name} has a CustomEvent<…Detail> type`).toBeTruthy();
      // The detail types are exported from the package's entries (src/index.ts: export type * from './element/events.js').
      expect(exported).toContain(`export interface ${detail} `);
    }
  });

  it('has the parts, CSS properties and (no) slots the element renders', () => {
    expect(names(el.cssParts).sort()).toEqual(['action', 'camera-select', 'hint', 'overlay', 'preview', 'progress', 'status', 'video']);
    expect(names(el.cssProperties)).toEqual(expect.arrayContaining(['--face-login-width', '--face-login-accent', '--face-login-font']));
    // The element renders no <slot>; a slot added to render() needs an @slot line.
    expect(readFileSync(join(root, 'src/element/face-login.component.ts'), 'utf8')).not.toContain('<slot');
    expect(el.slots ?? []).toEqual([]);
  });

  it('points every module at a file the package ships (dist/, an entry of package.json "exports")', () => {
    const pkg = read('package.json');
    const shipped = new Set(Object.values(pkg.exports as Record<string, { import?: string }>).map((e) => e.import?.replace(/^\.\//, '')));
    expect(pkg.files).toContain('dist/');
    for (const mod of manifest.modules) {
      expect(mod.path).toMatch(/^dist\//);
      expect(shipped.has(mod.path), `${mod.path} is an "exports" entry`).toBe(true);
      for (const ex of mod.exports ?? []) if (ex.declaration.module) expect(shipped.has(ex.declaration.module), ex.declaration.module).toBe(true);
    }
    expect(manifest.modules.flatMap((m) => m.exports ?? []).find((e) => e.kind === 'custom-element-definition')?.name).toBe('face-login');
  });
});

describe('vscode.html-custom-data.json', () => {
  it('is the manifest\'s element, attributes and values, and ships with the package', () => {
    const data = read('vscode.html-custom-data.json');
    expect(data).toEqual(vscodeCustomData(manifest));
    const tag = data.tags.find((t: Named) => t.name === 'face-login');
    expect(names(tag.attributes)).toEqual(names(el.attributes));
    const attr = (n: string) => tag.attributes.find((a: Named) => a.name === n);
    expect(names(attr('mode').values)).toEqual(['enroll', 'verify', 'identify']);
    expect(attr('guided').valueSet).toBe('v');
    expect(attr('compute').description).toMatch(/^Deprecated/);
    expect(read('package.json').files).toContain('vscode.html-custom-data.json');
  });
});
