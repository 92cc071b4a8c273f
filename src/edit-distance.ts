/**
 * Edit distance between short names, to say what a misspelled name was probably meant to be (a misspelled
 * Worker variable, an unknown CLI option or command).
 *
 * Contract: pure. Case-insensitive; `-` and `_` count as the same character (REVOCATION_MODE / revocation-mode).
 */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: `REVOCATOIN` is 1 away). */
export function editDistance(a: string, b: string): number {
  const x = normalize(a);
  const y = normalize(b);
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => [i, ...Array<number>(y.length).fill(0)]);
  for (let j = 1; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[x.length]![y.length]!;
}

/**
 * The largest distance at which `name` is taken for a misspelling of a known name: 1 for short names, 2 from
 * 5 characters, 3 from 12 (a longer name has room for more typos before it looks like another word).
 */
export function typoBudget(name: string): number {
  return name.length >= 12 ? 3 : name.length >= 5 ? 2 : 1;
}

/** The known name `name` is most likely a misspelling of (within `typoBudget`), or null; never `name` itself. */
export function closestName(name: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const dist = editDistance(name, k);
    if (dist === 0 && k === name) return null;
    if (dist <= typoBudget(k) && dist < bestDistance) {
      best = k;
      bestDistance = dist;
    }
  }
  return best;
}

function normalize(s: string): string {
  return s.toLowerCase().replaceAll("-", "_");
}
