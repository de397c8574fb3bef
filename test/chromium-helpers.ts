/**
 * Headless-Chromium helpers shared by the tests that render HTML reports (eval-html-render,
 * demo): run Debian's chromium, decode its PNG screenshots, measure how much of the page is drawn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

// FLUXMUT_CHROMIUM points the check at another Chromium build (other distributions, macOS).
export const CHROMIUM = process.env.FLUXMUT_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const INSTALL_HINT = 'install it with "apt-get update && apt-get install -y chromium" (.ci/run does this)';

// ------------------------------------------------------------------------------------------------
// PNG decoding (just enough for Chromium's screenshots: 8-bit RGB or RGBA, non-interlaced).

export interface Png {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

export function decodePng(buf: Buffer): Png {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  sig.forEach((b, i) => { if (buf[i] !== b) throw new Error('not a PNG: bad signature'); });
  let p = 8;
  let width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
  const idat: Buffer[] = [];
  while (p < buf.length) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    const data = buf.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8]!;
      colorType = data[9]!;
      interlace = data[12]!;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  if (depth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${interlace}`);
  }
  const ch = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * ch;
  if (raw.length !== height * (stride + 1)) throw new Error(`corrupt PNG: ${raw.length} bytes of image data, expected ${height * (stride + 1)}`);
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= ch ? out[row + x - ch]! : 0;
      const b = y > 0 ? out[row - stride + x]! : 0;
      const c = x >= ch && y > 0 ? out[row - stride + x - ch]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (f !== 0) throw new Error(`bad PNG filter ${f} in row ${y}`);
      out[row + x] = (raw[src + x]! + pred) & 0xff;
    }
  }
  return { width, height, channels: ch, pixels: out };
}

/** Fraction of pixels that are not (near) white. */
export function inkOf(png: Png): number {
  let ink = 0;
  const n = png.width * png.height;
  for (let i = 0; i < n; i++) {
    const o = i * png.channels;
    if (png.pixels[o]! < 235 || png.pixels[o + 1]! < 235 || png.pixels[o + 2]! < 235) ink++;
  }
  return ink / n;
}

export function chromium(args: string[], profile: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${profile}`, ...args,
  ], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/** Screenshots `htmlPath` at width x height into `work`; throws with Chromium's stderr when no PNG appears. */
export function screenshot(htmlPath: string, work: string, name: string, width: number, height: number): Png {
  const shot = join(work, `${name}.png`);
  const r = chromium([`--screenshot=${shot}`, `--window-size=${width},${height}`, `file://${htmlPath}`], join(work, `profile-${name}`));
  if (!existsSync(shot)) throw new Error(`no screenshot; chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return decodePng(readFileSync(shot));
}
