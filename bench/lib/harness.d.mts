/** Types of bench/lib/harness.mjs, so TypeScript benchmark scripts can import it. */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { Plugin, ViteDevServer } from 'vite';

export const ROOT: string;
export const CHROMIUM: string;
export const CHROMIUM_ARGS: string[];
export const FAKE_CAMERA_ARGS: string[];
export const DEFAULT_LFW: string;
export const CONSOLE_NOISE: RegExp;

export function makeLog(tag: string): (...a: unknown[]) => void;
export function fmtDur(seconds: number): string;

export interface Summary {
  n: number;
  median: number | null;
  p95: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}
export function percentile(xs: readonly number[], p: number): number | null;
export function median(xs: readonly number[]): number | null;
export function mean(xs: readonly number[]): number | null;
export function summarize(xs: readonly number[]): Summary;
export function roundDeep<T>(x: T, digits?: number): T;

export function cpuModel(): string;
export function pkgVersion(name: string): string | null;
export function git(...args: string[]): string | null;
export interface MachineInfo {
  cpu: string;
  cpus: number;
  memGiB: number;
  os: string;
  node: string;
  chromium: string | null;
  chromiumPath: string;
  loadavg: number[];
  gitCommit: string | null;
  gitDirty: string[] | null;
  versions: Record<string, string | null>;
}
export function machineInfo(o?: { browser?: Browser | null; chromiumVersion?: string | null; packages?: string[]; dirtyPaths?: string[] }): MachineInfo;

export function freePort(): Promise<number>;
export function startVite(o?: {
  cacheDir?: string;
  plugins?: Plugin[];
  optimizeDepsInclude?: string[];
  log?: (...a: unknown[]) => void;
}): Promise<{ server: ViteDevServer; origin: string; close: () => Promise<void> }>;
export function serveDirPlugin(prefix: string | RegExp, dir: string, headers?: Record<string, string>): Plugin;
export function pageHeadersPlugin(path: string, headers: (url: URL) => Record<string, string>): Plugin;
export function contentType(file: string): string;

export interface ServedRequest {
  path: string;
  status: number;
  bytes: number;
  t: number;
}
export function startStaticServer(
  dir: string,
  o?: { cacheControl?: (path: string) => string; headers?: Record<string, string>; log?: (...a: unknown[]) => void },
): Promise<{ origin: string; requests: ServedRequest[]; since(mark: number): ServedRequest[]; close(): Promise<void> }>;
export function buildDemo(outDir: string): Promise<number>;

export function launchChromium(o?: { args?: string[] }): Promise<Browser>;
export function launchPersistent(userDataDir: string, o?: { args?: string[] }): Promise<{ context: BrowserContext; page: Page }>;
export function launchWithFakeCamera(
  userDataDir: string,
  o?: { y4m?: string; origin?: string; args?: string[] },
): Promise<{ context: BrowserContext; page: Page }>;
export function watchPage(page: Page, o?: { origin?: string; log?: (...a: unknown[]) => void; offOrigin?: string[]; noise?: RegExp }): string[];
export function routeFaces(page: Page, dir?: string, prefix?: string): Promise<{ served: number }>;
export function y4mFromPhoto(photo: string, outDir: string, name: string): string;

export function mdTable(headers: string[], rows: string[][], align?: ('l' | 'r' | 'c')[]): string;
export function writeResultFile(file: string, text: string): void;
export function readResultJson(file: string): unknown;
export function writeResults(outDir: string, base: string, report: unknown, md: string): { json: string; md: string };
