// Clock text for the line formats: an entry's time (ns since the epoch) as
// ISO 8601 or as a time of day, in UTC or in the local time zone.

import { nsToMs } from '../time.js'

/** UTC (the default: lines from many hosts sort and compare), or the local time zone. */
export type TimeFormat = 'utc' | 'local'

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n)
}

function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n)
}

/** `2024-05-01T12:34:56.789Z`, or in local time with its offset: `2024-05-01T14:34:56.789+02:00`. */
export function isoTime(ns: bigint, timeFormat: TimeFormat): string {
  const date = new Date(nsToMs(ns))
  if (timeFormat === 'utc') return date.toISOString()
  const offset = -date.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}` +
    `T${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}.${pad3(date.getMilliseconds())}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  )
}

/** `12:34:56.789`, the time of day. */
export function clockTime(ns: bigint, timeFormat: TimeFormat): string {
  const date = new Date(nsToMs(ns))
  return timeFormat === 'utc'
    ? `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}.${pad3(date.getUTCMilliseconds())}`
    : `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}.${pad3(date.getMilliseconds())}`
}
