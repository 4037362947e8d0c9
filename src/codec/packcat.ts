// Re-exports packcat's schema builders after loading the Float16Array polyfill, so `netloom/codec` works on Node 20.
import './polyfill.js';
import * as packcatRuntime from 'packcat';
import type * as PackcatSchema from 'packcat/dist/schema.js';
import type { Schema, SchemaType } from 'packcat/dist/schema.js';

// packcat 0.3.0's index.d.ts re-exports './schema' without a file extension, which TypeScript's
// NodeNext resolution cannot follow; its types are imported from the declaration file directly.
export type { Schema, SchemaType };

/** What packcat's `build` returns: generated pack/unpack/validate functions for one schema. */
export interface BuiltSchema<S extends Schema> {
  pack(value: SchemaType<S>): Uint8Array;
  packInto(
    value: SchemaType<S>,
    u8: Uint8Array,
    offset: number,
  ): { ok: true; bytesWritten: number } | { ok: false; bytesWritten: 0 };
  /** Unsafe on untrusted bytes: use a protocol's `decode`, or run `compileChecker` first. */
  unpack(u8: Uint8Array): SchemaType<S>;
  validate(value: SchemaType<S>): boolean;
  source: { pack: string; packInto: string; unpack: string; validate: string };
}

/**
 * packcat's schema builders (`p.object`, `p.list`, `p.varuint`, `p.float32`, ...).
 * Import them from here rather than from `packcat` directly: this module installs the
 * Float16Array polyfill first, which packcat needs at load time on Node 20.
 */
export const p: typeof PackcatSchema = packcatRuntime as unknown as typeof PackcatSchema;

/** packcat's `build`: compiles a schema into pack/unpack/validate functions. */
export const build: <S extends Schema>(schema: S) => BuiltSchema<S> = (
  packcatRuntime as unknown as { build: <S extends Schema>(schema: S) => BuiltSchema<S> }
).build;
