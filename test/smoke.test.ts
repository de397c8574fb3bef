import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

describe('fluxmut command', () => {
  it('prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const out = execFileSync('node', ['bin/fluxmut.js', '--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(pkg.version);
  });
  it('prints help naming the tool', () => {
    const out = execFileSync('node', ['bin/fluxmut.js', '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/Usage: fluxmut/);
  });
});
