/**
 * The addon. Its one caller is @logkit/core, whose `WireNative` (src/wire/native.ts)
 * declares its calls and their contracts; native/wire.cc documents each.
 */
declare const addon: Readonly<Record<string, unknown>>
export = addon
