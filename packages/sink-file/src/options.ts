// The file sink's options: the TypeScript shape users write (FileSinkOptions),
// the zod schema that validates it purely (no I/O) and turns units into
// numbers (FileSinkConfig), and JSON Schema for editors from the same schema.

import { basename } from 'node:path'
import { createFormatter, type FormatName, formatNames, type TimeFormat, z } from '@logkit/core'
import type { Interval } from './naming.js'
import type { SpacePolicy } from './space-guard.js'
import { parseDuration, parseMode, parseSize } from './units.js'

/** Controllable time for rotation and retention: anything with `now()` in ms (an RxJS scheduler will do). */
export interface FileSinkClock {
  now(): number
}

export type FsyncPolicy = 'flush' | 'always' | 'never'

export interface RotateOptions {
  /** Rotate before a file would grow past this: bytes, or '10MiB', '500MB', '1G'. */
  readonly size?: number | string | undefined
  /** Rotate when the day (or hour) changes, in `timeFormat`'s time zone. */
  readonly interval?: Interval | undefined
  /** Rotated files kept, newest first; older ones are removed. */
  readonly keep?: number | undefined
  /** Rotated files last written longer ago than this are removed: ms, or '7d', '12h'. */
  readonly maxAge?: number | string | undefined
  /** Gzip rotated files in the background (default false). */
  readonly compress?: boolean | undefined
}

export interface FileSinkOptions {
  /** The log file. Rotated files are named after it, in the same folder. */
  readonly path: string
  /** Line format (default json: pino-compatible NDJSON). An entry whose line the `format` operator set is written as is. */
  readonly format?: FormatName | undefined
  /** For format text: the line template. */
  readonly template?: string | undefined
  /** For format pretty: ANSI colours (default false in a file). */
  readonly colors?: boolean | undefined
  /** Times in lines, and day and hour boundaries of rotation: 'utc' (default) or 'local'. */
  readonly timeFormat?: TimeFormat | undefined
  /** Mode of files the sink creates (default 0o600); text is read as octal ('0640'). */
  readonly mode?: number | string | undefined
  /** Create the log's folder (and its parents) if missing (default false). */
  readonly mkdir?: boolean | undefined
  readonly rotate?: RotateOptions | undefined
  /** Free-space guard: below this many bytes free (or '1GiB'), apply `policy` (default 0: off). */
  readonly minFreeBytes?: number | string | undefined
  /** What the free-space guard does: 'block' (hold writes, default) or 'drop' (count and report). */
  readonly policy?: SpacePolicy | undefined
  /** How often the guard asks the file system for free space (default '1s'). */
  readonly spaceCheckInterval?: number | string | undefined
  /** An external logrotate truncates the file in place: notice it and count from its new size (default false). */
  readonly copytruncate?: boolean | undefined
  /** Keep the last N entries in `<path>.history.jsonl` for `logkit tail` (default 0: off). */
  readonly history?: number | undefined
  /** When to fsync: on flush (default), after every batch ('always'), or never. */
  readonly fsync?: FsyncPolicy | undefined
  /** Reopen the file on SIGHUP, for an external logrotate (default true). */
  readonly reopenOnSighup?: boolean | undefined
  /** Plain API only: the clock rotation and retention read (default Date). */
  readonly clock?: FileSinkClock | undefined
}

/** Options after validation: defaults filled in, units turned into numbers. */
export interface FileSinkConfig {
  readonly path: string
  readonly format?: FormatName | undefined
  readonly template?: string | undefined
  readonly colors?: boolean | undefined
  readonly timeFormat: TimeFormat
  readonly mode: number
  readonly mkdir: boolean
  readonly rotate?:
    | {
        readonly size?: number | undefined
        readonly interval?: Interval | undefined
        readonly keep?: number | undefined
        readonly maxAgeMs?: number | undefined
        readonly compress: boolean
      }
    | undefined
  readonly minFreeBytes: number
  readonly policy: SpacePolicy
  readonly spaceCheckIntervalMs: number
  readonly copytruncate: boolean
  readonly history: number
  readonly fsync: FsyncPolicy
  readonly reopenOnSighup: boolean
}

const size = (what: string) =>
  z
    .union([z.number(), z.string()], { error: `expected ${what} as bytes or text such as '10MiB'` })
    .transform((value, ctx) => {
      const bytes = parseSize(value)
      if (bytes === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `expected ${what} as bytes or text such as '10MiB', '500MB' or '1G', found ${JSON.stringify(value)}`,
        })
        return z.NEVER
      }
      return bytes
    })

const duration = (what: string) =>
  z
    .union([z.number(), z.string()], { error: `expected ${what} as milliseconds or text such as '7d'` })
    .transform((value, ctx) => {
      const ms = parseDuration(value)
      if (ms === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `expected ${what} as milliseconds or text such as '7d', '12h', '30m' or '1w', found ${JSON.stringify(value)}`,
        })
        return z.NEVER
      }
      return ms
    })

const mode = z
  .union([z.number(), z.string()], { error: "expected a file mode such as '0600' or '0640'" })
  .transform((value, ctx) => {
    const parsed = parseMode(value)
    if (parsed === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `expected a file mode such as '0600' or '0640' (quoted in YAML, which reads 0640 as decimal), found ${JSON.stringify(value)}`,
      })
      return z.NEVER
    }
    return parsed
  })

function formatterMakes(o: { format?: FormatName | undefined; template?: string | undefined }): boolean {
  try {
    createFormatter({ format: o.format, template: o.template })
    return true
  } catch {
    return false
  }
}

const rotate = z
  .strictObject({
    size: size('a rotation size')
      .optional()
      .describe("Rotate before the file grows past this: bytes or '10MiB'."),
    interval: z
      .enum(['daily', 'hourly'], { error: "expected 'daily' or 'hourly'" })
      .optional()
      .describe('Rotate when the day or hour changes.'),
    keep: z
      .number({ error: 'expected a number of files' })
      .int({ error: 'expected a whole number of files' })
      .min(0, { error: 'expected 0 or more files' })
      .optional()
      .describe('Rotated files kept, newest first.'),
    maxAge: duration('a maximum age')
      .optional()
      .describe("Remove rotated files older than this: ms or '7d'."),
    compress: z.boolean({ error: 'expected true or false' }).default(false).describe('Gzip rotated files.'),
  })
  .refine((r) => r.size !== undefined || r.interval !== undefined, {
    error: 'rotate needs a size, an interval, or both',
  })
  .transform(({ maxAge, ...r }) => ({ ...r, maxAgeMs: maxAge }))

/** The schema of `use: file`. */
export const fileSinkOptions = z
  .strictObject({
    path: z
      .string({ error: 'expected the path of the log file' })
      .min(1, { error: 'expected the path of the log file' })
      .refine((p) => !p.endsWith('/') && basename(p) !== '.' && basename(p) !== '..', {
        error: 'expected the path of a file, found a folder',
      })
      .describe('The log file; rotated files are named after it.'),
    format: z
      .enum(formatNames as [FormatName, ...FormatName[]], {
        error: `expected one of ${formatNames.join(', ')}`,
      })
      .optional()
      .describe('Line format (default json: pino-compatible NDJSON).'),
    template: z.string({ error: 'expected a text template' }).optional().describe('For format text.'),
    colors: z.boolean({ error: 'expected true or false' }).optional().describe('For format pretty.'),
    timeFormat: z
      .enum(['utc', 'local'], { error: "expected 'utc' or 'local'" })
      .default('utc')
      .describe('Time zone of line times and of rotation days and hours.'),
    mode: mode.default(0o600).describe("Mode of created files, e.g. '0600' (default) or '0640'."),
    mkdir: z.boolean({ error: 'expected true or false' }).default(false).describe("Create the log's folder."),
    rotate: rotate.optional(),
    minFreeBytes: size('a free-space threshold')
      .default(0)
      .describe("Free-space guard threshold: bytes or '1GiB' (0: off)."),
    policy: z
      .enum(['block', 'drop'], { error: "expected 'block' or 'drop'" })
      .default('block')
      .describe('What the free-space guard does below the threshold.'),
    spaceCheckInterval: duration('a check interval').default(1000).describe('How often free space is asked.'),
    copytruncate: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .describe('Survive logrotate copytruncate.'),
    history: z
      .number({ error: 'expected a number of entries' })
      .int({ error: 'expected a whole number of entries' })
      .min(0, { error: 'expected 0 or more entries' })
      .default(0)
      .describe('Keep the last N entries in <path>.history.jsonl.'),
    fsync: z
      .enum(['flush', 'always', 'never'], { error: "expected 'flush', 'always' or 'never'" })
      .default('flush')
      .describe('fsync on flush (default), after every batch, or never.'),
    reopenOnSighup: z
      .boolean({ error: 'expected true or false' })
      .default(true)
      .describe('Reopen on SIGHUP.'),
  })
  .refine(formatterMakes, {
    error: "format and template do not go together: a template needs format 'text' and known placeholders",
    path: ['template'],
  })
  .transform(
    ({ spaceCheckInterval, ...o }): FileSinkConfig => ({ ...o, spaceCheckIntervalMs: spaceCheckInterval }),
  )

// Compile-time: whatever the schema accepts, FileSinkOptions allows (the other
// direction is kept by hand), and the schema's output is a FileSinkConfig.
fileSinkOptions satisfies z.ZodType<FileSinkConfig, Omit<FileSinkOptions, 'clock'>>
