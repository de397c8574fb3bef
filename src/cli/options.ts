import { InvalidArgumentError } from 'commander';

/** Commander argument parsers shared by the commands: each rejects bad values with a usage error. */
export function intArg(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

export function listArg(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function choiceArg<T extends string>(name: string, choices: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got '${v}'`);
    return v as T;
  };
}

export function quantilesArg(v: string): number[] {
  const qs = listArg(v).map(Number);
  // An empty list would silently drop every threshold_<q>/is_outlier_<q> column.
  if (qs.length === 0) throw new InvalidArgumentError(`give at least one quantile, e.g. --quantiles 0.68,0.95,0.99`);
  for (const q of qs) if (!(q > 0 && q < 1)) throw new InvalidArgumentError(`quantiles must lie strictly between 0 and 1, got '${v}'`);
  return [...new Set(qs)].sort((a, b) => a - b);
}

/** A KDE bandwidth: 'scott', 'silverman' or a positive factor. */
export function bandwidthArg(v: string): 'scott' | 'silverman' | number {
  if (v === 'scott' || v === 'silverman') return v;
  const f = Number(v);
  if (!(Number.isFinite(f) && f > 0)) throw new InvalidArgumentError(`--bank-bandwidth must be scott, silverman or a positive factor (e.g. 0.25), got '${v}'`);
  return f;
}
