/**
 * Where the labelled face sets are, and what is in them (LFW pairs and identities, ORL).
 *
 * The sets live beside the repository, as CI has them: `<repo>/../shared/faces/<set>`. Override
 * with FACES_DIR (the folder holding the sets) or per set with LFW_DIR / ORL_DIR, or with the
 * benchmarks' --lfw / --orl flags. Nothing here copies a photo anywhere.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './harness.mjs';
import { rng } from '../../scripts/lib/seeded-random.mjs';

export const FACES_DIR = resolve(process.env.FACES_DIR ?? join(ROOT, '..', 'shared', 'faces'));

/** LFW deep-funneled folder: --lfw flag, else LFW_DIR, else <FACES_DIR>/lfw-deepfunneled. */
export function lfwDir(flag) {
  return resolve(flag ?? process.env.LFW_DIR ?? join(FACES_DIR, 'lfw-deepfunneled'));
}

/** ORL / AT&T folder (s01..s40/01..10.png): --orl flag, else ORL_DIR, else <FACES_DIR>/orl-att-faces. */
export function orlDir(flag) {
  return resolve(flag ?? process.env.ORL_DIR ?? join(FACES_DIR, 'orl-att-faces'));
}

export function requireDir(dir, what) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`${what} not found at ${dir} (set FACES_DIR to the folder holding the face sets, or ${what === 'LFW' ? 'LFW_DIR' : 'ORL_DIR'})`);
  }
  return dir;
}

export function lfwImagePath(name, n) {
  return `${name}/${name}_${String(n).padStart(4, '0')}.jpg`;
}

/** All pairs of pairs.txt: 10 folds x (300 matched, then 300 mismatched), as { fold, same, a, b }. */
export function readLfwPairs(dir) {
  const lines = readFileSync(join(dir, 'pairs.txt'), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const [folds, perHalf] = lines[0].trim().split(/\s+/).map(Number);
  const body = lines.slice(1);
  if (body.length !== folds * perHalf * 2) throw new Error(`pairs.txt: expected ${folds * perHalf * 2} pair lines, got ${body.length}`);
  const pairs = [];
  for (let f = 0; f < folds; f++) {
    for (let i = 0; i < 2 * perHalf; i++) {
      const line = body[f * 2 * perHalf + i];
      const p = line.trim().split(/\s+/);
      const same = i < perHalf;
      if (same && p.length !== 3) throw new Error(`pairs.txt: bad matched line "${line}"`);
      if (!same && p.length !== 4) throw new Error(`pairs.txt: bad mismatched line "${line}"`);
      const a = lfwImagePath(p[0], Number(p[1]));
      const b = same ? lfwImagePath(p[0], Number(p[2])) : lfwImagePath(p[2], Number(p[3]));
      pairs.push({ fold: f, same, a, b });
    }
  }
  return { pairs, folds, perHalf };
}

/**
 * The first n pairs spread evenly over the folds, half matched and half mismatched in each
 * (10-fold balanced: n/10 pairs per fold, half genuine). `folds` (a Set of fold indices) keeps only those.
 */
export function selectLfwPairs(all, n, folds = null) {
  const foldIds = [...new Set(all.map((p) => p.fold))].sort((a, b) => a - b);
  const kept = folds ? foldIds.filter((f) => folds.has(f)) : foldIds;
  const perFold = all.filter((p) => p.fold === foldIds[0]).length;
  if (n >= perFold * kept.length) return all.filter((p) => kept.includes(p.fold));
  const out = [];
  kept.forEach((f, idx) => {
    const inFold = Math.floor(n / kept.length) + (idx < n % kept.length ? 1 : 0);
    const matched = Math.ceil(inFold / 2);
    const fold = all.filter((p) => p.fold === f);
    out.push(...fold.filter((p) => p.same).slice(0, matched));
    out.push(...fold.filter((p) => !p.same).slice(0, inFold - matched));
  });
  return out;
}

/** Every identity folder with its images (sorted), e.g. { name, images: ['A/A_0001.jpg', ...] }. */
export function listLfwIdentities(dir) {
  const ids = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    const images = readdirSync(p).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => `${name}/${f}`);
    if (images.length) ids.push({ name, images });
  }
  return ids;
}

/** ORL: [{ name: 's01', images: ['s01/01.png', ... 's01/10.png'] }, ...]. */
export function listOrl(dir) {
  const ids = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!/^s\d+$/.test(name) || !statSync(p).isDirectory()) continue;
    const images = readdirSync(p).filter((f) => /\.(png|pgm|jpe?g)$/i.test(f)).sort().map((f) => `${name}/${f}`);
    if (images.length) ids.push({ name, images });
  }
  return ids;
}

/** A seeded Fisher-Yates shuffle (a new array). */
export function shuffled(xs, seed) {
  const u = rng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const TYPES = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.pgm': 'image/x-portable-graymap' };

/**
 * Serves `/__faces/<set>/<rel>` to a page from the set's folder on disk (`sets` = { lfw: dir, orl: dir }),
 * images only; nothing is copied. Returns { served }.
 */
export async function routeFaceSets(page, sets) {
  const { readFile } = await import('node:fs/promises');
  const { extname, sep } = await import('node:path');
  const counter = { served: 0 };
  await page.route('**/__faces/**', async (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/__faces\//, ''));
    const slash = rel.indexOf('/');
    const dir = slash > 0 ? sets[rel.slice(0, slash)] : undefined;
    if (!dir) return route.fulfill({ status: 404, body: 'unknown set' });
    const root = resolve(dir);
    const file = resolve(root, rel.slice(slash + 1));
    const type = TYPES[extname(file).toLowerCase()];
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep) || !type) return route.fulfill({ status: 403, body: 'forbidden' });
    try {
      const body = await readFile(file);
      counter.served++;
      return route.fulfill({ status: 200, contentType: type, body });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
  return counter;
}
