/** Parsing of single table cells, shared by the readers and the numeric checks. */

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A cell's number, or undefined when the text is not a number. Accepts decimal/scientific
 * literals, and the spellings of NaN and infinities that numpy, pandas and JS write (`nan`, `inf`,
 * `Infinity`), so that those are recognised as numbers and then rejected by name, not as "text".
 * Empty cells are not numbers (Number('') would silently give 0).
 */
export function parseNumberCell(text: string): number | undefined {
  const s = text.trim();
  if (NUMBER_RE.test(s)) return Number(s);
  switch (s.toLowerCase()) {
    case 'nan':
    case '+nan':
    case '-nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}
