/** 32-bit FNV-1a over bytes, continuing from `h`. */
export function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  let x = h >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    x ^= bytes[i] as number;
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x;
}

/** Hex fingerprint of a JSON-able description and typed arrays of data. */
export function fingerprint(description: unknown, ...arrays: ArrayBufferView[]): string {
  let h = fnv1a(new TextEncoder().encode(JSON.stringify(description)));
  for (const a of arrays) h = fnv1a(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), h);
  return h.toString(16).padStart(8, '0');
}
