/**
 * custom-elements.json for IDEs and docs, generated from the JSDoc block above FaceLoginElement,
 * and vscode.html-custom-data.json next to it (VS Code's HTML custom data, made from the manifest).
 *
 * The analyzer lists what the class has; these plugins keep what a page may use:
 * - no internal state: `static properties` entries with `state: true`, private and protected
 *   members, and the attributes of either, are left out;
 * - each event gets its type from FaceLoginEventMap (src/element/events.ts): the JSDoc's @event
 *   list and the map must name the same events, or the analysis fails;
 * - attribute types are those of FaceLoginAttributes (src/element/attributes.ts, the React and Vue
 *   types), type aliases spelled out (`'enroll' | 'verify' | 'identify'`, not `FaceLoginMode`);
 * - module paths are the package's files (dist/face-login.js), not src/…ts, which is not shipped.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = import.meta.dirname;

/** Where the code of each analysed module is in the package: the main entry's bundle. */
const PACKAGE_PATHS = {
  'src/element/face-login.component.ts': 'dist/face-login.js',
  'src/element/face-login.ts': 'dist/face-login.js',
};

const parse = (file) => ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);

function sourceFiles(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [`${dir}/${e.name}`] : [],
  );
}

/** Every `type X = …` in src/, by name (for spelling aliases out). */
function typeAliases() {
  const aliases = new Map();
  for (const file of sourceFiles('src')) {
    ts.forEachChild(parse(file), (node) => {
      if (ts.isTypeAliasDeclaration(node) && !node.typeParameters) aliases.set(node.name.text, node.type);
    });
  }
  return aliases;
}

/** A type's text with aliases of unions of literals replaced by the literals: 'auto' | 'webgl' | 'wasm' | 'cpu'. */
function spellOut(type, aliases) {
  if (ts.isUnionTypeNode(type)) return type.types.map((t) => spellOut(t, aliases)).join(' | ');
  if (ts.isTypeReferenceNode(type) && !type.typeArguments && ts.isIdentifier(type.typeName)) {
    const alias = aliases.get(type.typeName.text);
    if (alias && (ts.isUnionTypeNode(alias) || ts.isLiteralTypeNode(alias) || ts.isTypeReferenceNode(alias))) return spellOut(alias, aliases);
  }
  return type.getText();
}

function interfaceMembers(file, name) {
  let members;
  ts.forEachChild(parse(file), (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) members = node.members;
  });
  if (!members) throw new Error(`${file} has no interface ${name}`);
  return members.filter(ts.isPropertySignature).map((m) => ({ name: ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(), type: m.type }));
}

/** The names of `static properties` entries with `state: true`, per class name. */
function stateProperties(classNode) {
  const names = new Set();
  for (const member of classNode.members) {
    const isStatic = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
    if (!isStatic || !ts.isPropertyDeclaration(member) || member.name.getText() !== 'properties') continue;
    if (!member.initializer || !ts.isObjectLiteralExpression(member.initializer)) continue;
    for (const p of member.initializer.properties) {
      if (!ts.isPropertyAssignment(p) || !ts.isObjectLiteralExpression(p.initializer)) continue;
      const state = p.initializer.properties.some(
        (o) => ts.isPropertyAssignment(o) && o.name.getText() === 'state' && o.initializer.kind === ts.SyntaxKind.TrueKeyword,
      );
      if (state) names.add(p.name.getText());
    }
  }
  return names;
}

const classes = (manifest) => manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.kind === 'class');

/** Internal state is not API: state properties, private and protected members, and their attributes. */
function publicApiOnly() {
  const state = new Map();
  return {
    name: 'face-login: public API only',
    analyzePhase({ ts: tsc, node }) {
      if (node.kind === tsc.SyntaxKind.ClassDeclaration && node.name) state.set(node.name.getText(), stateProperties(node));
    },
    packageLinkPhase({ customElementsManifest }) {
      for (const cls of classes(customElementsManifest)) {
        const internal = state.get(cls.name) ?? new Set();
        cls.members = (cls.members ?? []).filter((m) => !internal.has(m.name) && m.privacy !== 'private' && m.privacy !== 'protected');
        const fields = new Map(cls.members.map((m) => [m.name, m]));
        cls.attributes = (cls.attributes ?? []).filter((a) => !a.fieldName || fields.has(a.fieldName));
        for (const a of cls.attributes) {
          const field = a.fieldName && fields.get(a.fieldName);
          if (field?.deprecated && !a.deprecated) a.deprecated = field.deprecated;
        }
      }
    },
  };
}

/** Attribute and member types spelled out; attribute types from FaceLoginAttributes; event types from FaceLoginEventMap. */
function typesFromSource() {
  return {
    name: 'face-login: types from the source',
    packageLinkPhase({ customElementsManifest }) {
      const aliases = typeAliases();
      const attributeTypes = new Map(interfaceMembers('src/element/attributes.ts', 'FaceLoginAttributes').map((m) => [m.name, spellOut(m.type, aliases)]));
      const eventTypes = new Map(interfaceMembers('src/element/events.ts', 'FaceLoginEventMap').map((m) => [m.name, m.type.getText()]));
      for (const cls of classes(customElementsManifest).filter((c) => c.tagName === 'face-login')) {
        for (const a of cls.attributes ?? []) {
          const text = attributeTypes.get(a.name);
          if (!text) throw new Error(`attribute ${a.name} is missing from FaceLoginAttributes (src/element/attributes.ts)`);
          a.type = { text };
        }
        for (const m of cls.members ?? []) {
          if (m.type?.text && /^\w+$/.test(m.type.text) && aliases.has(m.type.text)) {
            const alias = aliases.get(m.type.text);
            if (ts.isUnionTypeNode(alias) || ts.isLiteralTypeNode(alias)) m.type = { text: spellOut(alias, aliases) };
          }
        }
        const documented = new Set((cls.events ?? []).map((e) => e.name));
        const missing = [...eventTypes.keys()].filter((n) => !documented.has(n));
        if (missing.length) throw new Error(`FaceLoginEventMap has events the @event JSDoc does not list: ${missing.join(', ')}`);
        for (const e of cls.events ?? []) {
          const text = eventTypes.get(e.name);
          if (!text) throw new Error(`@event ${e.name} is not in FaceLoginEventMap (src/element/events.ts)`);
          e.type = { text };
        }
      }
    },
  };
}

/** Module paths as the package has them: src/…ts modules folded into the dist/ file that ships their code. */
function packagePaths() {
  const toPackage = (path) => {
    const key = path.replace(/^\//, '').replace(/\.js$/, '.ts');
    const mapped = PACKAGE_PATHS[key];
    if (!mapped) throw new Error(`no package path for ${path}: add it to PACKAGE_PATHS in custom-elements-manifest.config.mjs`);
    return mapped;
  };
  return {
    name: 'face-login: package paths',
    packageLinkPhase({ customElementsManifest }) {
      const byPath = new Map();
      for (const mod of customElementsManifest.modules) {
        const path = toPackage(mod.path);
        const merged = byPath.get(path) ?? { kind: 'javascript-module', path, declarations: [], exports: [] };
        merged.declarations.push(...(mod.declarations ?? []));
        for (const ex of mod.exports ?? []) {
          if (ex.declaration?.module) ex.declaration = { ...ex.declaration, module: toPackage(ex.declaration.module) };
          if (!merged.exports.some((e) => e.kind === ex.kind && e.name === ex.name)) merged.exports.push(ex);
        }
        byPath.set(path, merged);
      }
      customElementsManifest.modules = [...byPath.values()];
    },
  };
}

/** The analyzer writes into --outdir (relative to the working directory); the custom data goes next to it. */
function outdir() {
  const i = process.argv.indexOf('--outdir');
  return resolve(process.cwd(), i >= 0 ? process.argv[i + 1] : '.');
}

/** VS Code's HTML custom data (https://github.com/microsoft/vscode-custom-data) for the manifest's elements. */
export function vscodeCustomData(manifest) {
  const values = (type) => {
    const literals = (type ?? '').split('|').map((t) => t.trim());
    return literals.length > 0 && literals.every((t) => /^'[^']*'$/.test(t)) ? literals.map((t) => ({ name: t.slice(1, -1) })).filter((v) => v.name) : undefined;
  };
  const tags = classes(manifest)
    .filter((c) => c.tagName)
    .map((c) => ({
      name: c.tagName,
      description: [c.summary, c.description].filter(Boolean).join('\n\n'),
      attributes: (c.attributes ?? []).map((a) => ({
        name: a.name,
        description: [a.deprecated ? `Deprecated: ${a.deprecated === true ? '' : a.deprecated}`.trim() : '', a.description ?? ''].filter(Boolean).join(' '),
        ...(a.type?.text === 'boolean' ? { valueSet: 'v' } : values(a.type?.text) ? { values: values(a.type.text) } : {}),
      })),
    }));
  return { $schema: 'https://raw.githubusercontent.com/microsoft/vscode-html-languageservice/main/docs/customData.schema.json', version: 1.1, tags };
}

function writeVscodeCustomData() {
  return {
    name: 'face-login: vscode.html-custom-data.json',
    packageLinkPhase({ customElementsManifest }) {
      mkdirSync(outdir(), { recursive: true });
      writeFileSync(join(outdir(), 'vscode.html-custom-data.json'), `${JSON.stringify(vscodeCustomData(customElementsManifest), null, 2)}\n`);
    },
  };
}

export default {
  globs: ['src/element/face-login.component.ts', 'src/element/face-login.ts'],
  litelement: true,
  // package.json names custom-elements.json itself; the analyzer must not rewrite it (the test runs it into a temp dir).
  packagejson: false,
  plugins: [publicApiOnly(), typesFromSource(), packagePaths(), writeVscodeCustomData()],
};
