import { expect, test } from '@playwright/test';
import type {} from './harness.js';

/**
 * Calibrates the capture-quality gates on real aligned crops: the committed sharp LFW photos
 * pass, and the same photos blurred, darkened or overexposed (canvas filters) fail with the
 * right reason. Also reads the head pose of real photos.
 */
test('quality gates: sharp photos pass; blurred, dark and overexposed copies fail for the right reason', async ({ page }) => {
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);
  const rows = await page.evaluate(async () => {
    const { det, files, align, quality, pose } = window.api;
    const manifest = await files.fetchManifest('/models/');
    const detector = await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE' });
    const aligner = new align.CanvasAligner();
    const out: { photo: string; variant: string; issue: string | null; luma: number; clipped: number; sharpness: number; yaw: number; pitch: number }[] = [];
    for (const photo of ['Colin_Powell_0001.jpg', 'Colin_Powell_0002.jpg', 'Colin_Powell_0003.jpg', 'Tony_Blair_0001.jpg', 'Tony_Blair_0002.jpg']) {
      const img = new Image();
      img.src = `/e2e/fixtures/${photo}`;
      await img.decode();
      for (const [variant, filter] of [['sharp', 'none'], ['blur', 'blur(3px)'], ['dark', 'brightness(0.25)'], ['bright', 'brightness(2.6)']] as const) {
        // The photo letterboxed into a 640x480 camera-like frame, as the fake camera shows it.
        const c = document.createElement('canvas');
        c.width = 640;
        c.height = 480;
        const ctx = c.getContext('2d')!;
        ctx.fillStyle = '#000';
        ctx.fillRect(0, 0, 640, 480);
        ctx.filter = filter;
        ctx.drawImage(img, 80, 0, 480, 480);
        const frame = { source: c, width: 640, height: 480, timestamp: performance.now() };
        const faces = detector.detect(frame);
        if (faces.length !== 1) {
          out.push({ photo, variant, issue: `faces=${faces.length}`, luma: NaN, clipped: NaN, sharpness: NaN, yaw: NaN, pitch: NaN });
          continue;
        }
        const stats = quality.cropStats(aligner.align(frame, faces[0]!));
        const p = pose.estimateHeadPose(faces[0]!.keypoints);
        out.push({ photo, variant, issue: quality.assessQuality(faces[0]!, frame, stats, quality.ENROLL_QUALITY), ...stats, yaw: p.yaw, pitch: p.pitch });
      }
    }
    detector.dispose();
    return out;
  });
  console.table(rows.map((r) => ({ ...r, luma: r.luma.toFixed(0), clipped: r.clipped?.toFixed(2), sharpness: r.sharpness.toFixed(1), yaw: r.yaw.toFixed(1), pitch: r.pitch.toFixed(1) })));
  for (const r of rows) {
    const what = `${r.photo} ${r.variant}`;
    if (r.variant === 'sharp') {
      expect(r.issue, what).toBeNull();
      expect(Math.abs(r.yaw), `${r.photo} yaw`).toBeLessThan(35);
      expect(Math.abs(r.pitch), `${r.photo} pitch`).toBeLessThan(30);
    } else if (r.variant === 'blur') {
      expect(r.issue, what).toBe('blurry');
    } else if (r.variant === 'dark') {
      expect(r.issue, what).toBe('too-dark');
    } else {
      // Overexposed: rejected either way, by our gate or because the detector no longer trusts the face.
      expect(['too-bright', 'low-score', 'faces=0'], what).toContain(r.issue);
    }
  }
});
