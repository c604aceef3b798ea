// Number formatting shared by the terminal and HTML reports, so both print the same digits.
// Every formatter takes NaN/Infinity (a counter that did not apply) and prints "n/a".

const NA = 'n/a';

/** Mpps with two decimals, as the RFC prints them ("12.90"). */
export function formatMpps(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : NA;
}

/** An offload/native ratio: "5.24x" ("×" in HTML). */
export function formatRatio(x: number, times = 'x'): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}${times}` : NA;
}

/** Three significant digits, without exponent notation for the magnitudes counters reach. */
export function formatSig(x: number): string {
  if (!Number.isFinite(x)) return NA;
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01) return x.toFixed(2);
  return x.toExponential(1);
}

/** A per-second count with an SI suffix: "45.1k", "1.23M". */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return NA;
  const a = Math.abs(x);
  if (a >= 1e9) return `${formatSig(x / 1e9)}G`;
  if (a >= 1e6) return `${formatSig(x / 1e6)}M`;
  if (a >= 1e3) return `${formatSig(x / 1e3)}k`;
  return formatSig(x);
}

/** A share of one core (or of the window) as a whole percentage: 0.973 -> "97%", 1.98 -> "198%". */
export function formatPct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : NA;
}

/** Relative spread as a percentage: "±1.8%" of the median, half the min-max range. */
export function formatSpreadPct(spread: number): string {
  return Number.isFinite(spread) ? `±${((spread * 100) / 2).toFixed(1)}%` : NA;
}

/** "2.41–2.50": the runs' range in Mpps. */
export function formatRange(min: number, max: number, dash = '-'): string {
  return Number.isFinite(min) && Number.isFinite(max) ? `${formatMpps(min)}${dash}${formatMpps(max)}` : NA;
}
