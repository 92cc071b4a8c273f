/**
 * policy/expr/limits — the caps of the expression parser and interpreter, each with where its number comes from.
 * (Kept beside the interpreter because only it uses them; src/limits.ts holds the request-path budgets.)
 */

/**
 * Nesting depth of the parser (parentheses, calls, blocks, interpolation holes) and of the evaluator's recursion.
 * Real policies nest under 10 levels; cel-go caps parser recursion at 250. 100 keeps both the parser and the
 * tree-walking interpreter far from the engine's stack limit while never bothering an honest policy.
 */
export const MAX_NESTING = 100;

/** Longest expression source the parser accepts, characters. An APIM policy document is capped at 256 KiB. */
export const MAX_SOURCE_CHARS = 256 * 1024;

/**
 * Longest string an expression may build (concatenation, Replace, PadLeft, Join, Format, JSON output …), UTF-16
 * units. Policies build header values and small JSON bodies; APIM's own buffered body limit for expressions is in
 * the MiB range. 1 Mi characters (2 MiB of memory) stops `s += s` doubling long before the isolate's 128 MiB.
 */
export const MAX_STRING_CHARS = 1024 * 1024;

/**
 * Largest message body an expression can read (`context.Request.Body.As<string>()`): the runner buffers the body
 * for it, and its text is one string, so the cap is MAX_STRING_CHARS' in bytes (UTF-8 text is never longer in
 * characters than in bytes). A larger body is still forwarded; reading it is a LimitExceeded.
 */
export const MAX_BODY_BYTES = MAX_STRING_CHARS;

/**
 * Most elements in a collection an expression builds (ToArray, ToList, Split, new[] {…}, JArray, JObject).
 * A header list or a JSON body's array rarely exceeds a few hundred entries; 100,000 bounds memory (≈ a few MiB).
 */
export const MAX_COLLECTION_ITEMS = 100_000;

/**
 * Characters of string work paid for by one step (Contains, IndexOf, Replace, Split, JSON parse/serialize …).
 * Native string scans run at ~1 GB/s, one interpreted step costs about as much as scanning a few hundred
 * characters: charging one step per 256 characters keeps the step budget proportional to wall time.
 */
export const CHARS_PER_STEP = 256;

/**
 * A suggested step budget per evaluation for the policy runner: the largest honest expressions (a LINQ query over
 * a few hundred claims, a JSON body of a few KiB) use a few thousand steps; 100,000 steps run in well under 50 ms.
 */
export const DEFAULT_STEP_BUDGET = 100_000;
