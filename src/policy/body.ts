/**
 * policy/body — buffers a message body for expressions that read it (`context.Request.Body`,
 * `context.Response.Body`), and gives back what to send on in its place.
 *
 * Contract: reads at most `cap` + one chunk of the stream; never loses bytes: what was read and the rest of the
 * stream are sent on as they came. Bodies of programs that do not read `Body` are never touched (run.ts asks
 * only when the bundle's scan found `Body`), so streaming stays the default.
 */
import type { BufferedBody } from "./context";
import { concatBytes } from "../bytes";

export interface Buffered {
  /** What expressions see (context.ts); `consumed` is set by a read without preserveContent. */
  readonly body: BufferedBody;
  /** The same bytes, to send on when no expression consumed them. */
  readonly forward: ReadableStream<Uint8Array>;
}

const UTF8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

/** Reads `stream` up to `cap` bytes: its text when it fits, else null text and a stream of everything. */
export async function bufferBody(stream: ReadableStream<Uint8Array>, cap: number): Promise<Buffered> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > cap) {
      // Too large for expressions: send on what was read, then the rest, untouched.
      const rest = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const c of chunks) controller.enqueue(c);
        },
        async pull(controller) {
          const r = await reader.read();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return { body: { text: null, consumed: false }, forward: rest };
    }
  }
  const bytes = concatBytes(chunks);
  return { body: { text: UTF8.decode(bytes), consumed: false }, forward: new Response(bytes).body! };
}
